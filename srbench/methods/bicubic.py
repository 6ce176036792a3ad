"""The bicubic baseline: MATLAB imresize upscaling of the uint8 LR image."""
from __future__ import annotations

import numpy as np

from .. import matlab
from . import register_method
from .base import BASELINE, SRMethod, SROutput, ycbcr_output


@register_method("bicubic")
class Bicubic(SRMethod):
    name = "bicubic"
    scales = (2, 3, 4, 8)
    description = "MATLAB imresize bicubic upscaling (no network)"
    provenance = BASELINE
    has_network = False

    def build(self, scale: int):
        return None, "matlab-imresize-bicubic"

    def super_resolve(self, lr: np.ndarray, scale: int, image_name: str | None = None) -> SROutput:
        self.check_scale(scale)
        return SROutput(pixels=matlab.imresize(lr, scale))

    def accepts_double_ycbcr(self) -> bool:
        return True

    def super_resolve_ycbcr(self, lr_ycc: np.ndarray, scale: int, image_name: str | None = None) -> SROutput:
        """The SRCNN/VDSR/LapSRN scripts' bicubic row: imresize of the double LR Y, rounded once."""
        self.check_scale(scale)
        return ycbcr_output(matlab.im2uint8(matlab.imresize(lr_ycc[:, :, 0], scale)), lr_ycc, scale)
