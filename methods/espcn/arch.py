"""ESPCN (Shi et al., CVPR 2016) in Nhat-Thanh/ESPCN-Pytorch's layout: three convolutions (tanh, tanh,
linear) on the 3-channel LR image, a sub-pixel (pixel-shuffle) layer, output clamped to [0, 1]."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from srbench.archs import ArchSpec, register_arch
from srbench.methods.base import InputSpec


class ESPCN(nn.Module):
    def __init__(self, scale: int, channels: int = 3):
        super().__init__()
        self.scale = scale
        self.conv_1 = nn.Conv2d(channels, 64, 5, padding=2)
        self.conv_2 = nn.Conv2d(64, 32, 3, padding=1)
        self.conv_3 = nn.Conv2d(32, channels * scale * scale, 3, padding=1)

    def forward(self, x):
        x = torch.tanh(self.conv_2(torch.tanh(self.conv_1(x))))
        return F.pixel_shuffle(self.conv_3(x), self.scale).clamp(0.0, 1.0)


ESPCN_ARCH = register_arch(ArchSpec(
    name="espcn", factory=lambda scale, **kw: ESPCN(scale, **kw),
    # The pretrained weights take JFIF YCbCr, which the adapter converts; generic use feeds RGB.
    input_spec=InputSpec(channels="rgb", value_range=1.0, pre_upsample=False),
    receptive_field=4, scales=(2, 3, 4), description="ESPCN (5-3-3, tanh), 3 channels, LR input"))
