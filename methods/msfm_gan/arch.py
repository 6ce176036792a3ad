"""MSFM-GAN networks (Zhou et al., "SISR with a multi-scale feature mapping adversarial network").

The paper's Fig. 3/4 (kernel, stride and width of every layer) is not in the text srbench has, so this is
built from the text of Sec. 3.1-3.2; the choices the text leaves open are marked ASSUMED.

Generator (no batch normalisation; input: the LR image bicubic-upsampled to HR size, as the SRCNN line the
paper builds on, which lets one network serve x2/x3/x4 as in its Table 1):
- encoder: 7 convs and 2 max-pools; 3x3 kernels except the first (ASSUMED 9x9, SRCNN's first layer);
  widths doubled after each pool: e1 9x9/64, e2 64 | pool | e3 128, e4 128 | pool | e5, e6, e7 256.
- multi-scale feature mapping: three independent sub-modules, each two sub-pixel x2 convolutions
  (3x3 conv to 4x channels + PixelShuffle(2) + ReLU), mapping the outputs of e5, e6, e7 (three receptive-field
  sizes at 1/4 resolution) to 64-channel maps at HR size (ASSUMED: which encoder layers feed them).
- decoder: 7 convs and 2 sub-pixel x2 convs, symmetric to the encoder, U-Net skips from e4 and e2; the three
  mapped feature sets are concatenated to the inputs of d4, d5, d6; the last conv is 5x5 (ASSUMED, SRCNN's
  last kernel) to 3 channels.
- ASSUMED: a global residual (output = input + decoder output), the VDSR practice the paper cites for its
  skip connections; the last conv starts at zero, so the untrained net returns its bicubic input.
ReLU activations, MSRA (He) initialisation as stated in Sec. 4.1.

Discriminator (FCN PatchGAN, Sec. 3.2): first conv 5x5 stride 2, then 3x3 stride-1 convs with BN and
LeakyReLU, max-pools halving the resolution; a 1-channel logit map (each value judges one patch), averaged by
the loss. Widths 64-128-256-512 (ASSUMED).
"""
from __future__ import annotations

import torch
from torch import nn


def conv(in_ch: int, out_ch: int, k: int = 3) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, k, padding=k // 2)


class SubPixelX2(nn.Sequential):
    def __init__(self, in_ch: int, out_ch: int):
        super().__init__(conv(in_ch, out_ch * 4), nn.PixelShuffle(2), nn.ReLU(inplace=True))


class FeatureMapping(nn.Sequential):
    """One MSFM sub-module: 1/4-resolution encoder features -> HR-size features by two sub-pixel x2 layers."""

    def __init__(self, in_ch: int = 256, out_ch: int = 64):
        super().__init__(SubPixelX2(in_ch, out_ch), SubPixelX2(out_ch, out_ch))


class MSFMGenerator(nn.Module):
    def __init__(self, width: int = 64):
        super().__init__()
        w1, w2, w3 = width, 2 * width, 4 * width
        relu = lambda: nn.ReLU(inplace=True)  # noqa: E731
        self.enc1 = nn.Sequential(conv(3, w1, 9), relu(), conv(w1, w1), relu())                   # e1, e2
        self.enc2 = nn.Sequential(nn.MaxPool2d(2), conv(w1, w2), relu(), conv(w2, w2), relu())     # e3, e4
        self.pool = nn.MaxPool2d(2)
        self.enc3 = nn.ModuleList([nn.Sequential(conv(w2 if i == 0 else w3, w3), relu()) for i in range(3)])
        self.msfm = nn.ModuleList([FeatureMapping(w3, w1) for _ in range(3)])
        self.dec1 = nn.Sequential(conv(w3, w3), relu(), SubPixelX2(w3, w2))                       # d1, up1
        self.dec2 = nn.Sequential(conv(2 * w2, w2), relu(), conv(w2, w2), relu(), SubPixelX2(w2, w1))  # d2, d3, up2
        self.dec4 = nn.Sequential(conv(3 * w1, w1), relu())
        self.dec5 = nn.Sequential(conv(2 * w1, w1), relu())
        self.dec6 = nn.Sequential(conv(2 * w1, w1), relu())
        self.dec7 = conv(w1, 3, 5)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
        nn.init.zeros_(self.dec7.weight)

    def forward(self, x):
        if x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"MSFM needs input sides divisible by 4 (two max-pools), got {tuple(x.shape[-2:])}")
        s1 = self.enc1(x)
        s2 = self.enc2(s1)
        deep, h = [], self.pool(s2)
        for layer in self.enc3:
            h = layer(h)
            deep.append(h)
        mapped = [m(f) for m, f in zip(self.msfm, deep)]       # from e5, e6, e7
        h = self.dec2(torch.cat([self.dec1(deep[-1]), s2], 1))
        h = self.dec4(torch.cat([h, s1, mapped[2]], 1))          # deepest mapping meets the first HR layer
        h = self.dec5(torch.cat([h, mapped[1]], 1))
        h = self.dec6(torch.cat([h, mapped[0]], 1))
        return x + self.dec7(h)


class PatchDiscriminator(nn.Module):
    def __init__(self, widths=(64, 128, 256, 512)):
        super().__init__()
        lrelu = lambda: nn.LeakyReLU(0.2, inplace=True)  # noqa: E731
        layers = [nn.Conv2d(3, widths[0], 5, stride=2, padding=2), lrelu()]
        in_ch = widths[0]
        for i, out_ch in enumerate(widths[1:]):
            layers += [nn.Conv2d(in_ch, out_ch, 3, padding=1), nn.BatchNorm2d(out_ch), lrelu(), nn.MaxPool2d(2)]
            in_ch = out_ch
        layers.append(nn.Conv2d(in_ch, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
