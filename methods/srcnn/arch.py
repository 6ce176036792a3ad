"""SRCNN (Dong et al.): three convolutions on the bicubic-upsampled Y channel.

Two released variants are used here: the authors' 9-5-5 x4 model, run as their MATLAB `SRCNN.m` runs it
(`imfilter(..., 'same', 'replicate')`: every layer replicate-pads so the output keeps the input size),
and chxy95's 9-1-5 x3 model, trained with valid convolutions (output 6 px smaller per side); to return
an HR-sized image without rescaling it, the input is replicate-padded by those 6 px once, so every
interior pixel is exactly the repository's valid-convolution output.
"""
from __future__ import annotations

from torch import nn
from torch.nn import functional as F

from srbench.archs import ArchSpec, register_arch
from srbench.methods.base import InputSpec


class SRCNN(nn.Module):
    def __init__(self, f2: int = 5, layer_padding: bool = True):
        super().__init__()
        mode = "replicate"
        pads = (4, f2 // 2, 2) if layer_padding else (0, 0, 0)
        self.conv1 = nn.Conv2d(1, 64, 9, padding=pads[0], padding_mode=mode)
        self.conv2 = nn.Conv2d(64, 32, f2, padding=pads[1], padding_mode=mode)
        self.conv3 = nn.Conv2d(32, 1, 5, padding=pads[2], padding_mode=mode)
        # Valid variant: total shrink per side = sum of the kernel radii.
        self.input_pad = 0 if layer_padding else 4 + f2 // 2 + 2

    def forward(self, x):
        if self.input_pad:
            x = F.pad(x, (self.input_pad,) * 4, mode="replicate")
        return self.conv3(F.relu(self.conv2(F.relu(self.conv1(x)))))


_Y_PRE = InputSpec(channels="y", value_range=1.0, pre_upsample=True)

SRCNN_955 = register_arch(ArchSpec(
    name="srcnn-955", factory=lambda scale=None, **kw: SRCNN(f2=5, layer_padding=True),
    input_spec=_Y_PRE, receptive_field=8,
    description="SRCNN 9-5-5, replicate padding per layer (authors' MATLAB SRCNN.m)"))
SRCNN_915_VALID = register_arch(ArchSpec(
    name="srcnn-915-valid", factory=lambda scale=None, **kw: SRCNN(f2=1, layer_padding=False),
    input_spec=_Y_PRE, receptive_field=6,
    description="SRCNN 9-1-5 trained with valid convolutions; input replicate-padded by 6 px"))
