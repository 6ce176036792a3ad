"""Evaluation protocols: how a paper's scripts turn an SR/HR pair into the numbers of its table.

Papers differ in where Y comes from (a uint8 `rgb2ycbcr`, rounded, or the unrounded value of a float
pipeline), how many border pixels they crop and which SSIM they run. A protocol fixes these choices
so that a user can reproduce one paper's table; `matlab` is the default.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .registry import Registry


@dataclass(frozen=True)
class Protocol:
    name: str
    description: str
    quantized_y: bool                    # Y of rgb2ycbcr on uint8 (rounded), as MATLAB does on uint8 images
    crop: Callable[[int], int]           # border crop as a function of the scale
    ssim_gaussian: bool = True           # Wang et al. ssim_index (Gaussian 11x11, sigma 1.5)

    def crop_border(self, scale: int, override: int | None = None) -> int:
        return self.crop(scale) if override is None else int(override)


PROTOCOLS: Registry[Protocol] = Registry("protocol")


def _add(protocol: Protocol) -> None:
    PROTOCOLS.register(protocol.name, lambda p=protocol: p)


_add(Protocol("matlab", "Default. MATLAB scripts of SRCNN/VDSR/LapSRN/EDSR/RCAN: Y of uint8 rgb2ycbcr, "
              "crop = scale, Wang et al. ssim_index.", quantized_y=True, crop=lambda s: s))
_add(Protocol("srgan", "Ledig et al. (SRGAN) Table 2: Y channel, 4-pixel border crop at every scale.",
              quantized_y=True, crop=lambda s: 4))
_add(Protocol("pirm", "PIRM-2018 evaluate_results.m: Y of uint8 rgb2ycbcr, 4-pixel shave (RMSE, NIQE, Ma, PI).",
              quantized_y=True, crop=lambda s: 4))
_add(Protocol("basicsr", "BasicSR/ESRGAN python scripts: unrounded Y of a float rgb2ycbcr, crop = scale.",
              quantized_y=False, crop=lambda s: s))
_add(Protocol("selfexsr", "Huang et al. SelfExSR / Timofte et al. benchmark scripts: crop = 6 + scale.",
              quantized_y=True, crop=lambda s: 6 + s))


def get_protocol(name: str) -> Protocol:
    return PROTOCOLS.create(name)
