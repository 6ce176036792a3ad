"""Reference formulas written out from the MATLAB documentation and the papers, for tests that must not
reuse srbench's own code to build their expected values (a test that computes its expectation with the
function under test cannot catch a wrong coefficient in it).

Everything here is deliberately slow and literal: loops, 2-D windows, the constants typed in again.
"""
from __future__ import annotations

import numpy as np

# MATLAB rgb2ycbcr (BT.601, studio swing): [Y Cb Cr] = offset + T * [R G B] / 255 for uint8 RGB.
BT601 = ((65.481, 128.553, 24.966), (-37.797, -74.203, 112.0), (112.0, -93.786, -18.214))
BT601_OFFSET = (16.0, 128.0, 128.0)


def matlab_round(x):
    """round() of MATLAB (halves away from zero), written with floor/ceil rather than srbench's helper."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5))


def y_by_hand(rgb: np.ndarray, quantize: bool) -> np.ndarray:
    """Y of rgb2ycbcr on a uint8 RGB image, in [0, 255]: rounded (MATLAB on uint8) or not (a float pipeline)."""
    c = rgb.astype(np.float64)
    y = 16.0 + (65.481 * c[..., 0] + 128.553 * c[..., 1] + 24.966 * c[..., 2]) / 255.0
    return matlab_round(y) if quantize else y


def keys_cubic(x: float) -> float:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB imresize 'bicubic')."""
    ax = abs(x)
    if ax <= 1:
        return 1.5 * ax ** 3 - 2.5 * ax ** 2 + 1
    if ax <= 2:
        return -0.5 * ax ** 3 + 2.5 * ax ** 2 - 4 * ax + 2
    return 0.0


def interior_downscale(vec: np.ndarray, factor: int) -> dict[int, float]:
    """MATLAB imresize(vec, 1/factor, 'bicubic') along one dimension, for the outputs whose taps all lie
    inside the vector (no border padding involved). Returns {0-based output index: value}.

    Output x (1-based) samples the input at u = x*factor + 0.5*(1 - factor); the antialiased kernel is
    (1/factor) * cubic(x/factor), 4*factor pixels wide.
    """
    n = len(vec)
    out = {}
    for x in range(1, n // factor + 1):
        u = x * factor + 0.5 * (1 - factor)
        taps = range(int(np.floor(u - 2 * factor)), int(np.floor(u + 2 * factor)) + 2)
        weights = [keys_cubic((u - j) / factor) / factor for j in taps]
        if min(taps) < 1 or max(taps) > n:
            continue
        total = sum(weights)
        out[x - 1] = sum(w * float(vec[j - 1]) for w, j in zip(weights, taps)) / total
    return out


def separable_uint8(rng, h, w):
    """img[r, c] = a[r] + b[c] (a, b integers): each 1-D pass of imresize has a closed form."""
    a, b = rng.integers(30, 110, h), rng.integers(30, 110, w)
    img = (a[:, None] + b[None, :]).astype(np.uint8)
    return img, a, b


def rounded_interior(a, b, factor):
    """MATLAB on uint8: the row pass rounds a[r]-resampled + b[c] (b integer) to round(A) + b, the column pass
    then gives round(A) + round(B). A float pipeline would give round(A + B)."""
    A, B = interior_downscale(a, factor), interior_downscale(b, factor)
    for values in (A, B):  # no value within rounding noise of a .5 tie, so the expectation is unambiguous
        assert all(abs(v - np.floor(v) - 0.5) > 1e-9 for v in values.values())
    rows, cols = sorted(A), sorted(B)
    per_pass = np.array([[matlab_round(A[r]) + matlab_round(B[c]) for c in cols] for r in rows])
    float_only = np.array([[matlab_round(A[r] + B[c]) for c in cols] for r in rows])
    return rows, cols, per_pass, float_only


def gaussian_window_2d(size: int, sigma: float) -> np.ndarray:
    """fspecial('gaussian', size, sigma): exp(-(x^2 + y^2) / (2 sigma^2)), normalised to sum 1."""
    half = (size - 1) / 2.0
    w = np.empty((size, size))
    for i in range(size):
        for j in range(size):
            w[i, j] = np.exp(-((i - half) ** 2 + (j - half) ** 2) / (2.0 * sigma ** 2))
    return w / w.sum()


def ssim_bruteforce(a: np.ndarray, b: np.ndarray, L: float = 255.0) -> float:
    """Wang et al. ssim_index.m by its definition: every 11x11 window lying entirely inside the image
    ('valid'), Gaussian-weighted statistics (sigma 1.5), K1 = 0.01, K2 = 0.03, mean of the SSIM map."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    w = gaussian_window_2d(11, 1.5)
    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2
    # every 11x11 window at once (the windows are enumerated, not filtered): shape (rows, cols, 11, 11)
    pa = np.lib.stride_tricks.sliding_window_view(a, (11, 11))
    pb = np.lib.stride_tricks.sliding_window_view(b, (11, 11))

    def wmean(x):
        return np.einsum("ijkl,kl->ij", x, w)

    ma, mb = wmean(pa), wmean(pb)
    va = wmean((pa - ma[..., None, None]) ** 2)
    vb = wmean((pb - mb[..., None, None]) ** 2)
    cov = wmean((pa - ma[..., None, None]) * (pb - mb[..., None, None]))
    ssim_map = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2))
    return float(np.mean(ssim_map))


def psnr_by_hand(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return 10.0 * np.log10(255.0 ** 2 / mse)
