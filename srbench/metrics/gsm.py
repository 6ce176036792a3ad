"""GSM, gradient similarity (Liu, Lin, Narwaria, IEEE TIP 21(4) 2012), on the Y channel.

From the paper's equations:
  gradient   g = max_k |sum(X o M_k)| / 16 over the 5x5 neighbourhood X, with the four directional
             operators M_1..M_4 of Chou & Li's JND model that the paper uses (horizontal, two diagonals,
             vertical). Dividing by 16 (the sum of each operator's positive taps) expresses g as a grey-level
             difference, the unit the masking constant C is stated in.
  contrast/structure similarity   s = (2(1-r) + K) / (1 + (1-r)^2 + K),  r = |g_x - g_y| / max(g_x, g_y),
             K = C / max(g_x, g_y)^2. Multiplying out, s = (2 g_x g_y + C) / (g_x^2 + g_y^2 + C): the
             paper's form is the usual similarity written relative to the larger (masking) gradient,
             which is how it models masking; the multiplied-out form is used here because it is
             defined where both gradients are zero (s = 1: nothing visible changed).
  luminance  l = 1 - ((x - y) / L)^2, L = 255.
  combination (adaptive)   q = (1 - W) s + W l,  W = p s,  so luminance counts more where the
             structure is preserved; GSM = mean of q.
Constants: C = 200 (grey levels^2; the paper recommends the range 200..1000 and its low end keeps the
metric sensitive to the small gradient changes SR methods make), p = 0.1 (paper: p << 0.5, luminance
is the minor term), L = 255. No official MATLAB reference values exist here, so the tests check the
properties the definition implies (identity gives 1, symmetry, dihedral and offset invariance,
monotone decrease under blur and noise), not parity with another implementation.

Borders: gradients are evaluated only where the 5x5 operators fit ('valid'), on the image after the
protocol's border crop, so no padding rule enters the score.
"""
from __future__ import annotations

import numpy as np

from .. import matlab
from . import register_metric
from .base import EvalContext, EvalImage, Metric, MetricError

GSM_C = 200.0
GSM_P = 0.1
GSM_L = 255.0

_M1 = np.array([[0, 0, 0, 0, 0],
                [1, 3, 8, 3, 1],
                [0, 0, 0, 0, 0],
                [-1, -3, -8, -3, -1],
                [0, 0, 0, 0, 0]], dtype=np.float64)
_M2 = np.array([[0, 0, 1, 0, 0],
                [0, 8, 3, 0, 0],
                [1, 3, 0, -3, -1],
                [0, 0, -3, -8, 0],
                [0, 0, -1, 0, 0]], dtype=np.float64)
OPERATORS = (_M1, _M2, np.fliplr(_M2), _M1.T)  # the set is closed under transpose and flips


def correlate_valid(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """2-D correlation where the kernel fits (scipy.signal.correlate2d 'valid'), as a sum of shifted
    copies over the kernel's nonzero taps. Here rather than scipy.signal, whose import alone takes ~2 s
    (every run and every worker paid it); on integer-valued images the sums are exact, so equal bit for bit."""
    kh, kw = kernel.shape
    h, w = img.shape[0] - kh + 1, img.shape[1] - kw + 1
    out = np.zeros((max(h, 0), max(w, 0)))
    for (i, j), tap in np.ndenumerate(kernel):
        if tap:
            out += tap * img[i:i + h, j:j + w]
    return out


def gradient_map(img: np.ndarray) -> np.ndarray:
    """max_k |X (x) M_k| / 16 at every position where the 5x5 operators fit."""
    img = np.asarray(img, dtype=np.float64)
    return np.max([np.abs(correlate_valid(img, m)) for m in OPERATORS], axis=0) / 16.0


def gsm(x: np.ndarray, y: np.ndarray, c: float = GSM_C, p: float = GSM_P, peak: float = GSM_L) -> float:
    """GSM of two same-size 2-D images in [0, peak] (1 = identical; symmetric in x and y)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"gsm: shapes differ {x.shape} vs {y.shape}")
    if min(x.shape) < 5:
        raise ValueError(f"gsm: image too small ({x.shape}); needs at least 5x5")
    gx, gy = gradient_map(x), gradient_map(y)
    s = (2.0 * gx * gy + c) / (gx * gx + gy * gy + c)
    lum = 1.0 - ((x[2:-2, 2:-2] - y[2:-2, 2:-2]) / peak) ** 2
    w = p * s
    return float(np.mean((1.0 - w) * s + w * lum))


@register_metric("gsm")
class GSM(Metric):
    name = "gsm"
    higher_is_better = True
    needs_reference = True
    version = "1"
    description = "Gradient similarity (Liu, Lin, Narwaria 2012) on Y, border crop per protocol"

    def compute(self, sr: EvalImage, hr: EvalImage, ctx: EvalContext) -> float:
        a, b = matlab.shave(sr.y, ctx.crop_border), matlab.shave(hr.y, ctx.crop_border)
        if min(a.shape) < 5:
            raise MetricError(f"gsm needs at least 5x5 pixels after the {ctx.crop_border}-px border crop, "
                              f"got {a.shape[1]}x{a.shape[0]}")
        return gsm(a, b)
