"""MATLAB-faithful image operations: imresize (bicubic), rgb2ycbcr, ycbcr2rgb, rgb2gray, modcrop, uint8 rounding.

The field's published numbers come from MATLAB, so these reproduce MATLAB's arithmetic, including its
rounding rules: integer outputs round half away from zero and saturate, and `imresize` on a uint8 image
returns uint8 after *each* one-dimensional pass (imresizemex keeps the input class), which moves a few
pixels by one grey level compared to a float-only resize.
"""
from __future__ import annotations

import math

import numpy as np

# BT.601 studio-swing matrix of MATLAB's rgb2ycbcr, for RGB in [0, 1] and YCbCr in [0, 255].
_YCBCR_T = np.array([[65.481, 128.553, 24.966],
                     [-37.797, -74.203, 112.0],
                     [112.0, -93.786, -18.214]])
_YCBCR_OFFSET = np.array([16.0, 128.0, 128.0])
# MATLAB rgb2gray weights: the first row of inv(NTSC matrix), printed by MATLAB as these digits.
_GRAY_WEIGHTS = np.array([0.298936021293776, 0.587043074451121, 0.114020904255103])


def round_half_away(x: np.ndarray) -> np.ndarray:
    """MATLAB's round(): halves go away from zero (numpy's round goes to even)."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def to_uint8(x: np.ndarray) -> np.ndarray:
    """MATLAB's conversion of a double array holding [0, 255] values to uint8: round half away, saturate."""
    return np.clip(round_half_away(np.asarray(x, dtype=np.float64)), 0, 255).astype(np.uint8)


def im2uint8(x: np.ndarray) -> np.ndarray:
    """MATLAB im2uint8 for a double image in [0, 1]."""
    return to_uint8(np.asarray(x, dtype=np.float64) * 255.0)


def modcrop(img: np.ndarray, scale: int) -> np.ndarray:
    """Crop the bottom/right so that height and width are multiples of `scale` (as the SR scripts' modcrop.m)."""
    h, w = img.shape[:2]
    return img[: h - h % scale, : w - w % scale, ...]


def shave(img: np.ndarray, border: int) -> np.ndarray:
    """Remove `border` pixels on every side."""
    if border <= 0:
        return img
    return img[border:-border, border:-border, ...]


def _as_unit_float(img: np.ndarray) -> np.ndarray:
    if img.dtype == np.uint8:
        return img.astype(np.float64) / 255.0
    return np.asarray(img, dtype=np.float64)


def rgb2ycbcr(img: np.ndarray) -> np.ndarray:
    """MATLAB rgb2ycbcr. uint8 in -> uint8 out (rounded); float in [0,1] -> float in [0,1]."""
    rgb = _as_unit_float(img)
    ycc = rgb @ _YCBCR_T.T + _YCBCR_OFFSET  # in [0, 255] units
    if img.dtype == np.uint8:
        return to_uint8(ycc)
    return ycc / 255.0


def rgb2y(img: np.ndarray, quantize: bool = True) -> np.ndarray:
    """Y channel of MATLAB rgb2ycbcr as float64 in [0, 255].

    `quantize=True` is MATLAB's behaviour on uint8 input (Y rounded to an integer); `False` keeps the
    unrounded Y that scripts working on im2double images see.
    """
    rgb = _as_unit_float(img)
    y = rgb @ _YCBCR_T[0] + _YCBCR_OFFSET[0]
    return round_half_away(y) if quantize else y


def ycbcr2rgb(img: np.ndarray) -> np.ndarray:
    """MATLAB ycbcr2rgb. uint8 in -> uint8 out (rounded, saturated); float in [0,1] -> float (unclipped)."""
    ycc = _as_unit_float(img) * 255.0
    rgb = (ycc - _YCBCR_OFFSET) @ np.linalg.inv(_YCBCR_T).T
    if img.dtype == np.uint8:
        return im2uint8(rgb)
    return rgb


def rgb2gray(img: np.ndarray) -> np.ndarray:
    """MATLAB rgb2gray. uint8 in -> uint8 out (rounded); float in -> float."""
    if img.ndim == 2 or img.shape[2] == 1:
        return img.reshape(img.shape[:2])
    gray = np.asarray(img, dtype=np.float64) @ _GRAY_WEIGHTS
    return to_uint8(gray) if img.dtype == np.uint8 else gray


# ---------------------------------------------------------------- imresize

def _cubic(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return ((1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2)))


def _contributions(in_len: int, out_len: int, scale: float, antialiasing: bool):
    """Weights and (0-based) source indices of each output sample along one dimension (MATLAB contributions())."""
    kernel_width = 4.0
    if scale < 1 and antialiasing:
        def kernel(x):
            return scale * _cubic(scale * x)
        kernel_width = kernel_width / scale
    else:
        kernel = _cubic
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kernel_width / 2)
    taps = int(math.ceil(kernel_width)) + 2
    indices = left[:, None] + np.arange(taps)[None, :]
    weights = kernel(u[:, None] - indices)
    weights = weights / weights.sum(axis=1, keepdims=True)
    # Symmetric ("mirror") padding at the borders, 1-based as in MATLAB.
    mirror = np.concatenate([np.arange(1, in_len + 1), np.arange(in_len, 0, -1)])
    indices = mirror[np.mod(indices.astype(np.int64) - 1, mirror.size)] - 1
    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], indices[:, keep]


def _resize_along(img: np.ndarray, axis: int, weights: np.ndarray, indices: np.ndarray) -> np.ndarray:
    moved = np.moveaxis(img, axis, 0)
    out = np.zeros((weights.shape[0],) + moved.shape[1:], dtype=np.float64)
    for k in range(weights.shape[1]):  # few taps (<= 18); the pixels are vectorised
        w = weights[:, k].reshape((-1,) + (1,) * (moved.ndim - 1))
        out += w * moved[indices[:, k]]
    return np.moveaxis(out, 0, axis)


def imresize(img: np.ndarray, scale: float | None = None, output_shape: tuple[int, int] | None = None,
             antialiasing: bool = True) -> np.ndarray:
    """MATLAB imresize(img, scale, 'bicubic') (or to `output_shape` = (rows, cols)).

    uint8 input returns uint8 and is rounded/saturated after each pass as MATLAB does; float input
    returns float64 without clipping. Works on HxW and HxWxC arrays.
    """
    if (scale is None) == (output_shape is None):
        raise ValueError("give exactly one of scale or output_shape")
    h, w = img.shape[:2]
    if scale is not None:
        scales = (float(scale), float(scale))
        out_shape = (int(math.ceil(h * scale)), int(math.ceil(w * scale)))
    else:
        out_shape = (int(output_shape[0]), int(output_shape[1]))
        scales = (out_shape[0] / h, out_shape[1] / w)
    is_uint8 = img.dtype == np.uint8
    out = img.astype(np.float64)
    # MATLAB resizes first along the dimension with the smaller scale factor (rows on ties).
    order = (0, 1) if scales[0] <= scales[1] else (1, 0)
    for axis in order:
        length = img.shape[axis]
        if out_shape[axis] == length and scales[axis] == 1.0:
            continue
        weights, indices = _contributions(length, out_shape[axis], scales[axis], antialiasing)
        out = _resize_along(out, axis, weights, indices)
        if is_uint8:
            out = to_uint8(out).astype(np.float64)
    return out.astype(np.uint8) if is_uint8 else out
