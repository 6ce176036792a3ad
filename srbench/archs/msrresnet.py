"""BasicSR's MSRResNet (SRResNet without batch norm): `conv_first`, `body.N.conv1/conv2`, `upconv1`,
`upconv2`, `conv_hr`, `conv_last`; the output is added to a bilinear upsampling of the input."""
from __future__ import annotations

from torch import nn
from torch.nn import functional as F

from ..methods.base import InputSpec
from . import ArchSpec, count_blocks, register_arch


class ResidualBlockNoBN(nn.Module):
    def __init__(self, num_feat: int):
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class MSRResNet(nn.Module):
    def __init__(self, scale: int = 4, num_in_ch: int = 3, num_out_ch: int = 3, num_feat: int = 64,
                 num_block: int = 16):
        super().__init__()
        if scale not in (2, 3, 4):
            raise ValueError(f"MSRResNet supports scales 2, 3, 4 (got {scale})")
        self.scale = scale
        self.conv_first = nn.Conv2d(num_in_ch, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[ResidualBlockNoBN(num_feat) for _ in range(num_block)])
        if scale == 4:
            self.upconv1 = nn.Conv2d(num_feat, num_feat * 4, 3, 1, 1)
            self.upconv2 = nn.Conv2d(num_feat, num_feat * 4, 3, 1, 1)
        else:
            self.upconv1 = nn.Conv2d(num_feat, num_feat * scale * scale, 3, 1, 1)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)

    def forward(self, x):
        feat = F.leaky_relu(self.conv_first(x), 0.1)
        out = self.body(feat)
        if self.scale == 4:
            out = F.leaky_relu(F.pixel_shuffle(self.upconv1(out), 2), 0.1)
            out = F.leaky_relu(F.pixel_shuffle(self.upconv2(out), 2), 0.1)
        else:
            out = F.leaky_relu(F.pixel_shuffle(self.upconv1(out), self.scale), 0.1)
        out = self.conv_last(F.leaky_relu(self.conv_hr(out), 0.1))
        base = F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False)
        return out + base


def infer_msrresnet_options(state: dict) -> dict:
    if "conv_first.weight" not in state:
        return {}
    w = state["conv_first.weight"]
    return {"num_block": count_blocks(state, "body."), "num_feat": w.shape[0], "num_in_ch": w.shape[1],
            "num_out_ch": state["conv_last.weight"].shape[0]}


register_arch(ArchSpec(
    name="MSRResNet", factory=lambda scale, **kw: MSRResNet(scale=scale, **kw),
    input_spec=InputSpec(channels="rgb", value_range=1.0, pre_upsample=False),
    receptive_field=16 * 2 + 5, scales=(2, 3, 4),
    description="BasicSR MSRResNet (SRResNet without batch norm)", infer_options=infer_msrresnet_options))
