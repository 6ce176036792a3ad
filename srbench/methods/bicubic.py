"""The bicubic baseline: MATLAB imresize upscaling of the uint8 LR image."""
from __future__ import annotations

import numpy as np

from .. import matlab
from . import register_method
from .base import SRMethod, SROutput


@register_method("bicubic")
class Bicubic(SRMethod):
    name = "bicubic"
    scales = (2, 3, 4, 8)
    description = "MATLAB imresize bicubic upscaling (no network)"

    def build(self, scale: int):
        return None, "matlab-imresize-bicubic"

    def super_resolve(self, lr: np.ndarray, scale: int, image_name: str | None = None) -> SROutput:
        self.check_scale(scale)
        return SROutput(pixels=matlab.imresize(lr, scale))
