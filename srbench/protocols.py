"""Evaluation protocols: how a paper's scripts turn an SR/HR pair into the numbers of its table.

Papers differ in where Y comes from (a uint8 `rgb2ycbcr`, rounded, or the unrounded value of a float
pipeline), how many border pixels they crop and which SSIM they run. A protocol fixes these choices
so that a user can reproduce one paper's table; `matlab` is the default. docs/protocols.md says which
protocol reproduces which published table.

Most protocols score the output of the uint8 pipeline (LR made from the uint8 RGB image and stored as
uint8, as a benchmark that saves LR files does). `srcnn` instead runs the SRCNN/VDSR/LapSRN test
scripts' pipeline (`lr_input="ycbcr-double"`): the LR is the double YCbCr image, never quantised, so
only methods that take that input (the Y-channel networks and bicubic) run under it; see `super_resolve`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .errors import UserError
from .registry import Registry


@dataclass(frozen=True)
class Protocol:
    name: str
    description: str
    quantized_y: bool                    # Y of rgb2ycbcr on uint8 (rounded), as MATLAB does on uint8 images
    crop: Callable[[int], int]           # border crop as a function of the scale
    ssim_gaussian: bool = True           # Wang et al. ssim_index (Gaussian 11x11, sigma 1.5)
    lr_input: str = "uint8"              # "uint8": LR stored as uint8 RGB; "ycbcr-double": see the docstring

    def crop_border(self, scale: int, override: int | None = None) -> int:
        return self.crop(scale) if override is None else int(override)


PROTOCOLS: Registry[Protocol] = Registry("protocol")


def _add(protocol: Protocol) -> None:
    PROTOCOLS.register(protocol.name, lambda p=protocol: p)


_add(Protocol("matlab", "Default. Scoring of the MATLAB scripts of SRCNN/VDSR/LapSRN/EDSR/RCAN (Y of uint8 "
              "rgb2ycbcr, crop = scale, Wang et al. ssim_index) on LR stored as uint8 RGB.",
              quantized_y=True, crop=lambda s: s))
_add(Protocol("srcnn", "SRCNN/VDSR/LapSRN test scripts: LR = imresize of the double Y of uint8 rgb2ycbcr, "
              "never quantised; SR rounded once; Y-channel methods only; crop = scale, ssim_index. Reproduces "
              "the bicubic rows of their tables.", quantized_y=True, crop=lambda s: s, lr_input="ycbcr-double"))
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


def make_lr(protocol: Protocol, degradation: str, hr, scale: int):
    """The LR input `protocol` prescribes for the uint8 HR image: uint8 RGB, or (srcnn) double YCbCr."""
    from .degradations import DEGRADATIONS, degrade_ycbcr_double

    if protocol.lr_input == "ycbcr-double":
        return degrade_ycbcr_double(degradation, hr, scale)
    return DEGRADATIONS.create(degradation).apply(hr, scale)


def super_resolve(protocol: Protocol, method, lr, scale: int, image_name: str | None = None):
    """`method` on an LR image made by `make_lr` for `protocol`."""
    if protocol.lr_input == "ycbcr-double":
        return method.super_resolve_ycbcr(lr, scale, image_name=image_name)
    return method.super_resolve(lr, scale, image_name=image_name)


def check_degradation(protocol: Protocol, degradation: str) -> None:
    """UserError before any work when `protocol` cannot run with `degradation`."""
    if protocol.lr_input == "ycbcr-double":
        from .degradations import DEGRADATIONS

        deg = DEGRADATIONS.create(degradation)
        if deg.apply_ycbcr_double is None:
            usable = [n for n in DEGRADATIONS.names() if DEGRADATIONS.create(n).apply_ycbcr_double is not None]
            raise UserError(f"--protocol {protocol.name} --degradation {degradation}: the {protocol.name} protocol "
                            f"needs the degradation in double precision; available: {', '.join(usable)}")
