"""`mr-srgan`, `wp-srgan` and their soft-thresholding fusion `bi-gans-st`, with generators trained by srbench."""
from __future__ import annotations

from pathlib import Path

from srbench.methods import register_method
from srbench.methods.base import SURROGATE, InputSpec, SRMethod
from srbench.train.trained import load_trained, trained_weights

from .arch import XI_GREY_LEVELS, MRSRGANGenerator, soft_threshold_fusion, wp_srgan_generator

FOLDER = Path(__file__).parent
MR_WEIGHTS = trained_weights("mr_srgan_x4_srbench.pth", "a83e4b01c660f7651290bbdca390cfce4698389aa04a32d4623c91877789a024", "mr-srgan")
WP_WEIGHTS = trained_weights("wp_srgan_x4_srbench.pth", "8a71129fb9de644fa67522b4476ca508147af2da76e3358da2552e8007757ba8", "wp-srgan")


class _Branch(SRMethod):
    provenance = SURROGATE
    scales = (4,)
    input_spec = InputSpec(channels="rgb", value_range=1.0, pre_upsample=False)
    receptive_field = 64

    def forward(self, net, x, scale):
        return net(x).clamp(0.0, 1.0)


@register_method("mr-srgan")
class MRSRGANMethod(_Branch):
    name = "mr-srgan"
    description = "MR-SRGAN (Bi-GANs-ST fidelity branch), trained by srbench (see MODEL_CARD)"

    def build(self, scale):
        return load_trained(MRSRGANGenerator(scale), MR_WEIGHTS, self.name, FOLDER, self.weights_override)


@register_method("wp-srgan")
class WPSRGANMethod(_Branch):
    name = "wp-srgan"
    description = "WP-SRGAN (Bi-GANs-ST perceptual branch), trained by srbench (see MODEL_CARD)"

    def build(self, scale):
        return load_trained(wp_srgan_generator(scale, xavier=False), WP_WEIGHTS, self.name, FOLDER,
                            self.weights_override)


@register_method("bi-gans-st")
class BiGANsST(_Branch):
    """Both branches on the same LR input, fused by soft thresholding (xi = 0.73 grey levels).
    `weights` may be "MR_FILE,WP_FILE" to override both checkpoints."""

    name = "bi-gans-st"
    description = "Bi-GANs-ST: I_g + soft(I_G - I_g, 0.73/255) of WP-SRGAN (I_G) and MR-SRGAN (I_g)"
    xi = XI_GREY_LEVELS / 255.0

    def build(self, scale):
        files = self.weights_override.split(",") if self.weights_override else [None, None]
        if len(files) != 2:
            from srbench.errors import UserError

            raise UserError(f"{self.name}: --weights takes two checkpoints, MR_FILE,WP_FILE (got {self.weights_override})")
        mr_file, wp_file = files
        mr, mr_id = load_trained(MRSRGANGenerator(scale), MR_WEIGHTS, "mr-srgan", FOLDER, mr_file)
        wp, wp_id = load_trained(wp_srgan_generator(scale, xavier=False), WP_WEIGHTS, "wp-srgan", FOLDER, wp_file)
        from torch import nn

        return nn.ModuleDict({"mr": mr, "wp": wp}), f"mr={mr_id};wp={wp_id};xi={XI_GREY_LEVELS}"

    def forward(self, net, x, scale):
        fidelity = net["mr"](x).clamp(0.0, 1.0)
        perceptual = net["wp"](x).clamp(0.0, 1.0)
        return soft_threshold_fusion(perceptual, fidelity, self.xi)
