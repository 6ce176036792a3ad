"""ESRGAN's RRDBNet with BasicSR's parameter names (`conv_first`, `body.N.rdbK.convJ`, `conv_body`,
`conv_up1`, `conv_up2`, `conv_hr`, `conv_last`). Checkpoints in the original ESRGAN repository's layout
(`RRDB_trunk.N.RDBK.convJ`, `trunk_conv`, `upconv1`, `upconv2`, `HRconv`) are renamed on load."""
from __future__ import annotations

import re

import torch
from torch import nn
from torch.nn import functional as F

from ..methods.base import InputSpec
from . import ArchSpec, count_blocks, register_arch


class ResidualDenseBlock(nn.Module):
    """Five densely connected 3x3 convolutions; the result is scaled by 0.2 and added to the input."""

    def __init__(self, num_feat: int = 64, num_grow_ch: int = 32):
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_grow_ch, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat + num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv3 = nn.Conv2d(num_feat + 2 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv4 = nn.Conv2d(num_feat + 3 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv5 = nn.Conv2d(num_feat + 4 * num_grow_ch, num_feat, 3, 1, 1)

    def forward(self, x):
        feats = [x]
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            feats.append(F.leaky_relu(conv(torch.cat(feats, 1)), 0.2))
        return x + 0.2 * self.conv5(torch.cat(feats, 1))


class RRDB(nn.Module):
    def __init__(self, num_feat: int, num_grow_ch: int):
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x):
        return x + 0.2 * self.rdb3(self.rdb2(self.rdb1(x)))


class RRDBNet(nn.Module):
    """scale 4: two nearest x2 upsamplings; scale 2 / 1: BasicSR's pixel-unshuffle of the input first."""

    def __init__(self, scale: int = 4, num_in_ch: int = 3, num_out_ch: int = 3, num_feat: int = 64,
                 num_block: int = 23, num_grow_ch: int = 32):
        super().__init__()
        if scale not in (1, 2, 4):
            raise ValueError(f"RRDBNet supports scales 1, 2, 4 (got {scale})")
        self.scale = scale
        in_ch = num_in_ch * {4: 1, 2: 4, 1: 16}[scale]
        self.conv_first = nn.Conv2d(in_ch, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(num_feat, num_grow_ch) for _ in range(num_block)])
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)

    def forward(self, x):
        if self.scale < 4:
            x = F.pixel_unshuffle(x, 4 // self.scale)
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        feat = F.leaky_relu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
        feat = F.leaky_relu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
        return self.conv_last(F.leaky_relu(self.conv_hr(feat), 0.2))


_ESRGAN_RENAMES = [(r"^RRDB_trunk\.", "body."), (r"\.RDB(\d)\.", r".rdb\1."), (r"^trunk_conv\.", "conv_body."),
                   (r"^upconv1\.", "conv_up1."), (r"^upconv2\.", "conv_up2."), (r"^HRconv\.", "conv_hr.")]


def esrgan_to_basicsr(state: dict) -> dict:
    """Rename keys of the original ESRGAN repository's checkpoints (e.g. RRDB_ESRGAN_x4.pth) to BasicSR's."""
    if not any(k.startswith("RRDB_trunk.") for k in state):
        return state
    out = {}
    for key, value in state.items():
        for pattern, repl in _ESRGAN_RENAMES:
            key = re.sub(pattern, repl, key)
        out[key] = value
    return out


def infer_rrdbnet_options(state: dict) -> dict:
    """num_block, num_feat, num_grow_ch and output channels from a BasicSR-layout state_dict."""
    if "conv_first.weight" not in state or "body.0.rdb1.conv1.weight" not in state:
        return {}
    return {"num_block": count_blocks(state, "body."), "num_feat": state["conv_first.weight"].shape[0],
            "num_grow_ch": state["body.0.rdb1.conv1.weight"].shape[0],
            "num_out_ch": state["conv_last.weight"].shape[0]}


register_arch(ArchSpec(
    name="RRDBNet", factory=lambda scale, **kw: RRDBNet(scale=scale, **kw),
    input_spec=InputSpec(channels="rgb", value_range=1.0, pre_upsample=False),
    # 23 blocks x 3 dense blocks x 5 convs + 6 convs, each a 1-px radius, at LR resolution.
    receptive_field=23 * 15 + 6, scales=(1, 2, 4),
    description="ESRGAN RRDBNet (BasicSR key layout; original ESRGAN keys are renamed)",
    convert_state=esrgan_to_basicsr, infer_options=infer_rrdbnet_options))
