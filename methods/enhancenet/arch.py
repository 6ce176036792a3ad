"""EnhanceNet (Sajjadi et al., ICCV 2017) generator, as in the authors' `enhancenet.py`: 10 residual
blocks at LR, two nearest-neighbour x2 upsamplings each followed by a conv + ReLU, two more convs, and
a bicubic x4 skip of the mean-subtracted input, all in RGB [0, 1] minus the per-channel means.

The skip is TensorFlow 1's `tf.image.resize_images(..., BICUBIC)`, i.e. legacy `resize_bicubic`: source
coordinate = dst * in/out (no half-pixel centres), Keys cubic with a = -0.75, edge indices clamped.
PyTorch's bicubic (half-pixel centres, a = -0.75) shifts the skip by 1.5 HR pixels against what the
network learned to correct, so it is implemented here.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from srbench.archs import ArchSpec, register_arch
from srbench.methods.base import InputSpec

PER_CHANNEL_MEANS = (0.47614917, 0.45001204, 0.40904046)
TF_LEGACY_CUBIC_A = -0.75


def _keys_cubic(x: torch.Tensor, a: float) -> torch.Tensor:
    ax = x.abs()
    near = ((a + 2) * ax - (a + 3)) * ax * ax + 1
    far = ((a * ax - 5 * a) * ax + 8 * a) * ax - 4 * a
    return torch.where(ax <= 1, near, torch.where(ax < 2, far, torch.zeros_like(ax)))


def _legacy_taps(in_len: int, out_len: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """(indices, weights), each (out_len, 4), of TF1 legacy resize_bicubic along one axis."""
    src = torch.arange(out_len, dtype=torch.float64, device=device) * (in_len / out_len)
    base = torch.floor(src)
    offsets = torch.arange(-1, 3, dtype=torch.float64, device=device)
    taps = base[:, None] + offsets[None, :]
    weights = _keys_cubic(src[:, None] - taps, TF_LEGACY_CUBIC_A)
    return taps.clamp(0, in_len - 1).long(), weights


def tf_legacy_resize_bicubic(x: torch.Tensor, factor: int) -> torch.Tensor:
    """NCHW -> NCHW upscaled by `factor` as TF1 `resize_bicubic(align_corners=False)` does."""
    n, c, h, w = x.shape
    idx, wts = _legacy_taps(h, h * factor, x.device)
    rows = (x[:, :, idx, :] * wts.to(x.dtype)[None, None, :, :, None]).sum(dim=3)
    idx, wts = _legacy_taps(w, w * factor, x.device)
    return (rows[:, :, :, idx] * wts.to(x.dtype)).sum(dim=4)


class EnhanceNet(nn.Module):
    """Parameters conv0 ... conv24 follow TF's Conv, Conv_1, ... Conv_24 numbering of the checkpoint."""

    def __init__(self, blocks: int = 10):
        super().__init__()
        self.blocks = blocks
        n = 2 * blocks + 5
        for i in range(n):
            cin = 3 if i == 0 else 64
            cout = 3 if i == n - 1 else 64
            setattr(self, f"conv{i}", nn.Conv2d(cin, cout, 3, padding=1))
        self.register_buffer("means", torch.tensor(PER_CHANNEL_MEANS).view(1, 3, 1, 1), persistent=False)

    def conv(self, i: int, x):
        return getattr(self, f"conv{i}")(x)

    def forward(self, x):
        x = x - self.means
        h = F.relu(self.conv(0, x))
        for k in range(self.blocks):
            h = h + self.conv(2 + 2 * k, F.relu(self.conv(1 + 2 * k, h)))
        i = 2 * self.blocks + 1
        h = F.relu(self.conv(i, F.interpolate(h, scale_factor=2, mode="nearest")))
        h = F.relu(self.conv(i + 1, F.interpolate(h, scale_factor=2, mode="nearest")))
        h = self.conv(i + 3, F.relu(self.conv(i + 2, h)))
        return h + tf_legacy_resize_bicubic(x, 4) + self.means


ENHANCENET_ARCH = register_arch(ArchSpec(
    name="enhancenet", factory=lambda scale=4, **kw: EnhanceNet(**kw),
    input_spec=InputSpec(channels="rgb", value_range=1.0, pre_upsample=False),
    # 1 + 20 convs at LR (21 px), then 4 convs at x2/x4 (< 2 LR px); the skip reaches 2 LR px.
    receptive_field=24, scales=(4,), description="EnhanceNet generator (ENet-PAT), RGB, LR input, TF1 bicubic skip"))
