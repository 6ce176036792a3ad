"""SRResNet generator and SRGAN discriminator (Ledig et al., CVPR 2017, Fig. 4).

Generator: 9x9 conv (64) + PReLU; B = 16 residual blocks [3x3 conv, BN, PReLU, 3x3 conv, BN, + skip];
3x3 conv + BN, added to the first conv's output; two sub-pixel x2 upsamplers [3x3 conv 64->256,
PixelShuffle(2), PReLU]; 9x9 conv to 3 channels. Input RGB in [0, 1], output RGB in [0, 1] (linear output).
`batch_norm=False` gives the BN-free variant (WP-SRGAN's generator in Bi-GANs-ST).

Discriminator: eight 3x3 convs 64, 64, 128, 128, 256, 256, 512, 512 with strides 1, 2, 1, 2, ...
(BN after all but the first, LeakyReLU 0.2), dense 1024, LeakyReLU, dense 1 (a logit; the sigmoid is in
the loss). The dense layer fixes the input size: `patch` (96 in the paper).
"""
from __future__ import annotations

import math

from torch import nn


class ResidualBlock(nn.Module):
    def __init__(self, channels: int = 64, batch_norm: bool = True):
        super().__init__()
        norm = (lambda: nn.BatchNorm2d(channels)) if batch_norm else (lambda: nn.Identity())
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), norm(), nn.PReLU(channels),
                                  nn.Conv2d(channels, channels, 3, padding=1), norm())

    def forward(self, x):
        return x + self.body(x)


class SubPixelUp(nn.Sequential):
    """3x3 conv to 4x the channels, PixelShuffle(2), PReLU: one x2 step (Shi et al.)."""

    def __init__(self, channels: int = 64):
        super().__init__(nn.Conv2d(channels, channels * 4, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(channels))


class SRResNet(nn.Module):
    def __init__(self, scale: int = 4, num_blocks: int = 16, channels: int = 64, batch_norm: bool = True):
        super().__init__()
        if scale not in (2, 4, 8):
            raise ValueError(f"SRResNet upsamples by powers of 2, not x{scale}")
        self.head = nn.Sequential(nn.Conv2d(3, channels, 9, padding=4), nn.PReLU(channels))
        self.body = nn.Sequential(*[ResidualBlock(channels, batch_norm) for _ in range(num_blocks)])
        self.body_tail = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1),
                                       nn.BatchNorm2d(channels) if batch_norm else nn.Identity())
        self.upsample = nn.Sequential(*[SubPixelUp(channels) for _ in range(int(math.log2(scale)))])
        self.tail = nn.Conv2d(channels, 3, 9, padding=4)

    def forward(self, x):
        feat = self.head(x)
        feat = feat + self.body_tail(self.body(feat))
        return self.tail(self.upsample(feat))


class SRGANDiscriminator(nn.Module):
    def __init__(self, patch: int = 96, batch_norm: bool = True):
        super().__init__()
        if patch % 16:
            raise ValueError(f"discriminator input size {patch} must be a multiple of 16")
        layers, in_ch = [], 3
        for i, out_ch in enumerate([64, 64, 128, 128, 256, 256, 512, 512]):
            layers.append(nn.Conv2d(in_ch, out_ch, 3, stride=1 + i % 2, padding=1))
            if i > 0 and batch_norm:
                layers.append(nn.BatchNorm2d(out_ch))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(512 * (patch // 16) ** 2, 1024),
                                        nn.LeakyReLU(0.2, inplace=True), nn.Linear(1024, 1))

    def forward(self, x):
        return self.classifier(self.features(x))
