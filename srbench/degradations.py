"""Degradations registry: how an LR image is made from an HR image.

Each degradation modcrops the HR image to the scale, degrades it with MATLAB arithmetic and quantises
to uint8 as MATLAB's imwrite would. Results are cached on disk keyed by the HR pixels' hash.

A degradation may also define `apply_ycbcr_double`: the same degradation as the SRCNN/VDSR/LapSRN test
scripts compute it, on the double YCbCr image (Y of uint8 rgb2ycbcr, divided by 255) and never quantised
(`--protocol srcnn`, `degrade_ycbcr_double`).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.ndimage import correlate

from . import matlab
from .errors import UserError
from .registry import Registry


@dataclass(frozen=True)
class Degradation:
    name: str
    description: str
    apply: Callable[[np.ndarray, int], np.ndarray]
    version: str = "1"
    apply_ycbcr_double: Callable[[np.ndarray, int], np.ndarray] | None = None


DEGRADATIONS: Registry[Degradation] = Registry("degradation")


def gaussian_kernel_2d(sigma: float) -> np.ndarray:
    """MATLAB fspecial('gaussian', 2*ceil(3*sigma)+1, sigma)."""
    radius = int(np.ceil(3 * sigma))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma * sigma))
    g[g < np.finfo(np.float64).eps * g.max()] = 0
    return g / g.sum()


def gaussian_blur_uint8(img: np.ndarray, sigma: float) -> np.ndarray:
    """MATLAB imfilter(img, fspecial('gaussian', ...), 'replicate') on uint8: result rounded to uint8."""
    kernel = gaussian_kernel_2d(sigma)
    data = img.astype(np.float64)
    if data.ndim == 3:
        kernel = kernel[:, :, None]
    return matlab.to_uint8(correlate(data, kernel, mode="nearest"))


def _bicubic(hr: np.ndarray, scale: int) -> np.ndarray:
    return matlab.imresize(matlab.modcrop(hr, scale), 1.0 / scale)


def hr_ycbcr_double(hr: np.ndarray, scale: int) -> np.ndarray:
    """Modcropped HR as double YCbCr in [0, 1]: uint8 rgb2ycbcr (rounded, as MATLAB on a uint8 image) / 255;
    a grey image is its own luminance (the scripts' `if size(im,3)==1`)."""
    hr = matlab.modcrop(hr if hr.ndim == 3 else hr[:, :, None], scale)
    ycc = hr if hr.shape[2] == 1 else matlab.rgb2ycbcr(hr)
    return ycc.astype(np.float64) / 255.0


def _bicubic_ycbcr_double(hr: np.ndarray, scale: int) -> np.ndarray:
    return matlab.imresize(hr_ycbcr_double(hr, scale), 1.0 / scale)


def _blur_bicubic(hr: np.ndarray, scale: int, sigma: float = 1.0) -> np.ndarray:
    return matlab.imresize(gaussian_blur_uint8(matlab.modcrop(hr, scale), sigma), 1.0 / scale)


def _register(deg: Degradation) -> None:
    DEGRADATIONS.register(deg.name, lambda d=deg: d)


_register(Degradation("bicubic", "modcrop, MATLAB imresize bicubic downscale (antialiased), uint8", _bicubic,
                      apply_ycbcr_double=_bicubic_ycbcr_double))
_register(Degradation("blur-bicubic", "modcrop, Gaussian blur sigma 1.0 (7x7, replicate), then MATLAB bicubic "
                      "downscale, uint8 (MSFM-GAN's training/test degradation)", _blur_bicubic))


def pixels_hash(img: np.ndarray) -> str:
    digest = hashlib.sha256()
    digest.update(repr((img.shape, str(img.dtype))).encode())
    digest.update(np.ascontiguousarray(img).tobytes())
    return digest.hexdigest()


def degrade(name: str, hr: np.ndarray, scale: int, use_cache: bool = True) -> np.ndarray:
    """LR image for `hr` (uint8) at integer `scale`, from the on-disk cache when present."""
    from . import results_cache

    deg = DEGRADATIONS.create(name)
    if not use_cache:
        return deg.apply(hr, scale)
    key, hr_sha = f"{deg.name}-v{deg.version}", pixels_hash(hr)
    lr = results_cache.load_lr(key, scale, hr_sha)  # None when absent or damaged: recomputed, never trusted
    if lr is None:
        lr = deg.apply(hr, scale)
        results_cache.store_lr(key, scale, hr_sha, lr)
    return lr


def degrade_ycbcr_double(name: str, hr: np.ndarray, scale: int) -> np.ndarray:
    """Double YCbCr LR in [0, 1] (HxWx3, HxWx1 for grey) for `hr` (uint8), never quantised (not cached: it
    is one resize, and a PNG would quantise it)."""
    deg = DEGRADATIONS.create(name)
    if deg.apply_ycbcr_double is None:  # validate_config rejects this before a run starts
        raise UserError(f"degradation '{name}' has no double-precision YCbCr form")
    return deg.apply_ycbcr_double(hr, scale)
