"""LapSRN (Lai et al., CVPR 2017) x4 in twtygqyy/pytorch-LapSRN's key layout (no biases): a two-level
Laplacian pyramid on the LR Y channel; each level adds a predicted residual to a learned x2 upsampling
of the previous level's image. Returns (HR_x2, HR_x4)."""
from __future__ import annotations

from torch import nn
from torch.nn import functional as F

from srbench.archs import ArchSpec, register_arch
from srbench.methods.base import InputSpec


def _lrelu():
    return nn.LeakyReLU(0.2)


class FeatureLevel(nn.Module):
    """10 x (3x3 conv + LeakyReLU), then a stride-2 transposed conv + LeakyReLU (key `cov_block`)."""

    def __init__(self, depth: int = 10):
        super().__init__()
        layers = []
        for _ in range(depth):
            layers += [nn.Conv2d(64, 64, 3, padding=1, bias=False), _lrelu()]
        layers += [nn.ConvTranspose2d(64, 64, 4, stride=2, padding=1, bias=False), _lrelu()]
        self.cov_block = nn.Sequential(*layers)

    def forward(self, x):
        return self.cov_block(x)


def _upsample_image():
    return nn.ConvTranspose2d(1, 1, 4, stride=2, padding=1, bias=False)


class LapSRN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_input = nn.Conv2d(1, 64, 3, padding=1, bias=False)
        self.convt_F1 = nn.Sequential(FeatureLevel())
        self.convt_I1 = _upsample_image()
        self.convt_R1 = nn.Conv2d(64, 1, 3, padding=1, bias=False)
        self.convt_F2 = nn.Sequential(FeatureLevel())
        self.convt_I2 = _upsample_image()
        self.convt_R2 = nn.Conv2d(64, 1, 3, padding=1, bias=False)

    def forward(self, x):
        f1 = self.convt_F1(F.leaky_relu(self.conv_input(x), 0.2))
        hr2 = self.convt_I1(x) + self.convt_R1(f1)
        f2 = self.convt_F2(f1)
        hr4 = self.convt_I2(hr2) + self.convt_R2(f2)
        return hr2, hr4


class LapSRNLevel(nn.Module):
    """The pyramid's output for one scale: x2 is the first level, x4 the second."""

    def __init__(self, scale: int):
        super().__init__()
        if scale not in (2, 4):
            raise ValueError(f"LapSRN x4 has pyramid levels x2 and x4 only (got x{scale})")
        self.level = 0 if scale == 2 else 1
        self.net = LapSRN()

    def forward(self, x):
        return self.net(x)[self.level]

    def load_state_dict(self, state, strict: bool = True, assign: bool = False):
        return self.net.load_state_dict(state, strict=strict, assign=assign)


LAPSRN_ARCH = register_arch(ArchSpec(
    name="lapsrn", factory=lambda scale, **kw: LapSRNLevel(scale),
    input_spec=InputSpec(channels="y", value_range=1.0, pre_upsample=False),
    # 1 + 10 convs at LR, transposed conv, 10 + 1 convs at x2 (= ~6 LR px), 1 more: ~20 LR pixels.
    receptive_field=20, scales=(2, 4), description="LapSRN x4 (no bias), Y channel, LR input; x2 = first level"))
