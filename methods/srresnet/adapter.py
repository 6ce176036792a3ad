"""`srresnet`: SRResNet-MSE x4 with weights trained by srbench (no published SRResNet weights are reachable)."""
from __future__ import annotations

from pathlib import Path

from srbench.methods import register_method
from srbench.methods.base import SURROGATE, InputSpec, SRMethod
from srbench.train.trained import load_trained, trained_weights

from .arch import SRResNet

WEIGHTS = trained_weights("srresnet_x4_srbench.pth", "81a838ade054dff986373537aa84e274ca98619736099acc834b5b604437dcab", "srresnet")


class SRResNetFamily(SRMethod):
    """An SRResNet-architecture generator: RGB in [0, 1], LR in, output clipped to [0, 1]."""

    scales = (4,)
    input_spec = InputSpec(channels="rgb", value_range=1.0, pre_upsample=False)
    # 9x9 head (4) + 33 3x3 convs at LR (33) + 3x3 at x2 (0.5) + 9x9 at x4 (1) input pixels.
    receptive_field = 40
    weights_file = WEIGHTS
    folder = Path(__file__).parent
    batch_norm = True
    provenance = SURROGATE

    def build(self, scale: int):
        net = SRResNet(scale=scale, batch_norm=self.batch_norm)
        return load_trained(net, self.weights_file, self.name, self.folder, self.weights_override)

    def forward(self, net, x, scale):
        return net(x).clamp(0.0, 1.0)


@register_method("srresnet")
class SRResNetMethod(SRResNetFamily):
    name = "srresnet"
    description = "SRResNet-MSE (Ledig et al. 2017), 16 blocks, trained by srbench on T91+General100 (see MODEL_CARD)"
