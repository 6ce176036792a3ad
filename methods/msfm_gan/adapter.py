"""`msfm-gan`: MSFM-GAN x4 generator trained by srbench (pre-upsampling network: MATLAB-bicubic input)."""
from __future__ import annotations

from pathlib import Path

from srbench.methods import register_method
from srbench.methods.base import SURROGATE, InputSpec, SRMethod
from srbench.train.trained import load_trained, trained_weights

from .arch import MSFMGenerator

WEIGHTS = trained_weights("msfm_gan_x4_srbench.pth", "4db077e83434f9eb6d4175d402c9235f746c4711703803728d193561e381c469", "msfm-gan")


@register_method("msfm-gan")
class MSFMGAN(SRMethod):
    name = "msfm-gan"
    description = ("MSFM-GAN (Zhou et al.) generator, trained by srbench on T91+General100 with blur-bicubic LR "
                   "(see MODEL_CARD; architecture details partly assumed)")
    provenance = SURROGATE
    scales = (4,)
    input_spec = InputSpec(channels="rgb", value_range=1.0, pre_upsample=True)
    receptive_field = 64   # in HR-size input pixels: two pools and 3x3 stacks reach about +-60 px
    weights_file = WEIGHTS

    def build(self, scale: int):
        return load_trained(MSFMGenerator(), self.weights_file, self.name, Path(__file__).parent,
                            self.weights_override)

    def forward(self, net, x, scale):
        h, w = x.shape[-2:]
        pad_h, pad_w = -h % 4, -w % 4   # two max-pools need sides divisible by 4: replicate-pad, then crop
        if pad_h or pad_w:
            import torch.nn.functional as F

            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        return net(x)[..., :h, :w].clamp(0.0, 1.0)
