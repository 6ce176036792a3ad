"""FSRCNN (Dong et al., ECCV 2016), d=56, s=12, m=4, in yjn870/FSRCNN-pytorch's key layout: the LR
Y channel goes in directly; a 9x9 transposed convolution with stride = scale makes the HR output."""
from __future__ import annotations

from torch import nn

from srbench.archs import ArchSpec, register_arch
from srbench.methods.base import InputSpec


class FSRCNN(nn.Module):
    def __init__(self, scale: int, d: int = 56, s: int = 12, m: int = 4):
        super().__init__()
        self.first_part = nn.Sequential(nn.Conv2d(1, d, 5, padding=2), nn.PReLU(d))
        mid = [nn.Conv2d(d, s, 1), nn.PReLU(s)]
        for _ in range(m):
            mid += [nn.Conv2d(s, s, 3, padding=1), nn.PReLU(s)]
        mid += [nn.Conv2d(s, d, 1), nn.PReLU(d)]
        self.mid_part = nn.Sequential(*mid)
        # padding 4 + output_padding scale-1 make the output exactly scale x the input size.
        self.last_part = nn.ConvTranspose2d(d, 1, 9, stride=scale, padding=4, output_padding=scale - 1)

    def forward(self, x):
        return self.last_part(self.mid_part(self.first_part(x)))


FSRCNN_ARCH = register_arch(ArchSpec(
    name="fsrcnn", factory=lambda scale, **kw: FSRCNN(scale, **kw),
    input_spec=InputSpec(channels="y", value_range=1.0, pre_upsample=False),
    # 2 (5x5) + 4 (four 3x3) LR pixels, plus the 9x9 deconvolution's reach of <= 3 LR pixels.
    receptive_field=9, scales=(2, 3, 4), description="FSRCNN(56,12,4), Y channel, LR input"))
