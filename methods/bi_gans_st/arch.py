"""Bi-GANs-ST networks (Luo et al., PIRM 2018 workshop; Sec. 3.2-3.4 and 4.1).

MR-SRGAN generator: a 3x3 conv (64) + PReLU; memory-residual (MR) blocks, each four ResBlocks
[3x3 conv, PReLU, 3x3 conv, + skip] whose four outputs a gate unit (1x1 conv, 4x64 -> 64, as MemNet's gate)
reduces, added to the block input; 7 MR blocks (Sec. 4.1; Fig. 2 draws four); then, as in SRGAN which the
generator is built on, a 3x3 conv with a long skip from the first conv, two sub-pixel x2 upsamplers and a 3x3
conv to RGB. No batch normalisation. The discriminator is SRGAN's.

WP-SRGAN generator: SRResNet without batch normalisation (16 ResBlocks, 9x9 first/last conv, PReLU), Xavier
init; discriminator: SRGAN's without BN. Both reuse methods/srresnet/arch.py.

Fusion (Sec. 3.4, Deng's soft-thresholding): with I_G the WP-SRGAN image (lower perceptual index) and I_g the
MR-SRGAN image (lower RMSE), Delta = I_G - I_g and soft(Delta, xi) = sign(Delta) max(|Delta| - xi, 0), the fused
image is I_g + soft(Delta, xi) = I_G - clip(Delta, -xi, xi): each pixel of I_G moves at most xi grey levels
towards I_g. xi = 0.73 is in 8-bit grey levels. Eq. (9) as printed reads I_G + soft(Delta, xi), which would
extrapolate away from I_g (xi = 0 gives 2 I_G - I_g) and raise the RMSE above WP-SRGAN's, contradicting the
paper's Table 2 (fused RMSE 15.77 between MR 11.36 and WP 16.28) and its description as "pixel
interpolation"; with xi in [0, 1] image units the fused image would be MR-SRGAN's almost everywhere
(RMSE ~11.4), again not Table 2. Only this reading reproduces the reported ordering.
"""
from __future__ import annotations

import torch
from torch import nn

from srbench_methods.srresnet.arch import ResidualBlock, SRResNet, SubPixelUp

XI_GREY_LEVELS = 0.73


class MemoryResidualBlock(nn.Module):
    def __init__(self, channels: int = 64, num_res: int = 4):
        super().__init__()
        self.res = nn.ModuleList([ResidualBlock(channels, batch_norm=False) for _ in range(num_res)])
        self.gate = nn.Conv2d(channels * num_res, channels, 1)

    def forward(self, x):
        outs, h = [], x
        for block in self.res:
            h = block(h)
            outs.append(h)
        return x + self.gate(torch.cat(outs, 1))


class MRSRGANGenerator(nn.Module):
    def __init__(self, scale: int = 4, num_mr: int = 7, num_res: int = 4, channels: int = 64):
        super().__init__()
        if scale != 4:
            raise ValueError("MR-SRGAN is x4 (two sub-pixel x2 layers)")
        self.head = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1), nn.PReLU(channels))
        self.body = nn.Sequential(*[MemoryResidualBlock(channels, num_res) for _ in range(num_mr)])
        self.body_tail = nn.Conv2d(channels, channels, 3, padding=1)
        self.upsample = nn.Sequential(SubPixelUp(channels), SubPixelUp(channels))
        self.tail = nn.Conv2d(channels, 3, 3, padding=1)

    def forward(self, x):
        feat = self.head(x)
        feat = feat + self.body_tail(self.body(feat))
        return self.tail(self.upsample(feat))


def wp_srgan_generator(scale: int = 4, xavier: bool = True) -> SRResNet:
    net = SRResNet(scale=scale, batch_norm=False)
    if xavier:
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)
    return net


def soft_threshold_fusion(perceptual: torch.Tensor, fidelity: torch.Tensor, xi: float) -> torch.Tensor:
    """I_g + soft(I_G - I_g, xi) with I_G = `perceptual` (WP-SRGAN), I_g = `fidelity` (MR-SRGAN); xi in the
    images' units."""
    delta = perceptual - fidelity
    return fidelity + torch.sign(delta) * torch.clamp(delta.abs() - xi, min=0.0)
