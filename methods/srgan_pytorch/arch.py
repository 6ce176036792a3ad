"""leftthomas/SRGAN generator (early 2018 layout): a reduced SRGAN generator with 5 residual blocks
(the paper has 16), two PixelShuffle x2 upsampling blocks, and output (tanh + 1) / 2 in [0, 1]."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from srbench.archs import ArchSpec, register_arch
from srbench.methods.base import InputSpec


class ResidualBlock(nn.Module):
    def __init__(self, channels: int = 64):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(channels)
        self.prelu = nn.PReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        return x + self.bn2(self.conv2(self.prelu(self.bn1(self.conv1(x)))))


class UpsampleBlock(nn.Module):
    def __init__(self, channels: int = 64, factor: int = 2):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels * factor * factor, 3, padding=1)
        self.factor = factor
        self.prelu = nn.PReLU()

    def forward(self, x):
        return self.prelu(F.pixel_shuffle(self.conv(x), self.factor))


class Generator(nn.Module):
    def __init__(self, scale: int = 4, num_blocks: int = 5):
        super().__init__()
        if scale not in (2, 4, 8):
            raise ValueError(f"this generator upsamples by powers of two (got x{scale})")
        self.block1 = nn.Sequential(nn.Conv2d(3, 64, 9, padding=4), nn.PReLU())
        for i in range(num_blocks):
            setattr(self, f"block{i + 2}", ResidualBlock())
        self.num_blocks = num_blocks
        n = num_blocks + 2
        setattr(self, f"block{n}", nn.Sequential(nn.Conv2d(64, 64, 3, padding=1), nn.PReLU()))
        ups = [UpsampleBlock() for _ in range(int(round(torch.log2(torch.tensor(scale)).item())))]
        setattr(self, f"block{n + 1}", nn.Sequential(*ups, nn.Conv2d(64, 3, 9, padding=4)))

    def forward(self, x):
        first = self.block1(x)
        h = first
        for i in range(self.num_blocks):
            h = getattr(self, f"block{i + 2}")(h)
        n = self.num_blocks + 2
        h = getattr(self, f"block{n}")(h)
        return (torch.tanh(getattr(self, f"block{n + 1}")(first + h)) + 1.0) / 2.0


SRGAN_LT_ARCH = register_arch(ArchSpec(
    name="srgan-leftthomas", factory=lambda scale, **kw: Generator(scale, **kw),
    input_spec=InputSpec(channels="rgb", value_range=1.0, pre_upsample=False),
    # 4 (9x9) + 5 blocks x 2 + 1 at LR, then upsampling convs and the final 9x9 (~2 LR px at x4).
    receptive_field=20, scales=(2, 4, 8), description="leftthomas/SRGAN generator (5 residual blocks)"))
