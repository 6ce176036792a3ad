"""VDSR (Kim et al., CVPR 2016) in twtygqyy/pytorch-vdsr's key layout: 20 bias-free 3x3 convolutions on
the bicubic-upsampled Y channel, output added to the input (global residual)."""
from __future__ import annotations

from torch import nn
from torch.nn import functional as F

from srbench.archs import ArchSpec, register_arch
from srbench.methods.base import InputSpec


class ConvReLU(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(64, 64, 3, padding=1, bias=False)

    def forward(self, x):
        return F.relu(self.conv(x))


class VDSR(nn.Module):
    def __init__(self, depth: int = 20):
        super().__init__()
        self.input = nn.Conv2d(1, 64, 3, padding=1, bias=False)
        self.residual_layer = nn.Sequential(*[ConvReLU() for _ in range(depth - 2)])
        self.output = nn.Conv2d(64, 1, 3, padding=1, bias=False)

    def forward(self, x):
        return x + self.output(self.residual_layer(F.relu(self.input(x))))


VDSR_ARCH = register_arch(ArchSpec(
    name="vdsr", factory=lambda scale=None, **kw: VDSR(**kw),
    input_spec=InputSpec(channels="y", value_range=1.0, pre_upsample=True),
    receptive_field=20, description="VDSR, 20 layers, Y channel, bicubic-upsampled input, global residual"))
