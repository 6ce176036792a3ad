"""Full-reference fidelity metrics on the Y channel: PSNR, SSIM (Wang et al. ssim_index), RMSE (PIRM)."""
from __future__ import annotations

import numpy as np
from scipy.ndimage import correlate1d

from .. import matlab
from . import register_metric
from .base import EvalContext, EvalImage, Metric, MetricError

PIRM_SHAVE = 4


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak * peak / mse)


def gaussian_kernel_1d(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    # fspecial('gaussian', n, s) is the outer product of this normalised 1-D kernel with itself.
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    k = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return k / k.sum()


def filter2_valid(img: np.ndarray, kernel_1d: np.ndarray) -> np.ndarray:
    """MATLAB filter2(w, img, 'valid') for a separable, symmetric w = k k^T."""
    half = len(kernel_1d) // 2
    out = correlate1d(img, kernel_1d, axis=0, mode="constant")
    out = correlate1d(out, kernel_1d, axis=1, mode="constant")
    return out[half:img.shape[0] - half, half:img.shape[1] - half]


def ssim_index(img1: np.ndarray, img2: np.ndarray, L: float = 255.0, K1: float = 0.01, K2: float = 0.03,
               window_size: int = 11, sigma: float = 1.5) -> float:
    """Wang et al.'s ssim_index.m: Gaussian window, 'valid' filtering, no downsampling, mean of the map."""
    a = np.asarray(img1, np.float64)
    b = np.asarray(img2, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"ssim_index: shapes differ {a.shape} vs {b.shape}")
    if min(a.shape) < window_size:
        return float("-inf")  # ssim_index.m returns -Inf for images smaller than the window
    k = gaussian_kernel_1d(window_size, sigma)
    c1, c2 = (K1 * L) ** 2, (K2 * L) ** 2
    mu1, mu2 = filter2_valid(a, k), filter2_valid(b, k)
    mu1_sq, mu2_sq, mu1_mu2 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    s1 = filter2_valid(a * a, k) - mu1_sq
    s2 = filter2_valid(b * b, k) - mu2_sq
    s12 = filter2_valid(a * b, k) - mu1_mu2
    ssim_map = ((2 * mu1_mu2 + c1) * (2 * s12 + c2)) / ((mu1_sq + mu2_sq + c1) * (s1 + s2 + c2))
    return float(np.mean(ssim_map))


@register_metric("psnr_y")
class PSNRY(Metric):
    name = "psnr_y"
    higher_is_better = True
    description = "PSNR (dB) on Y, border crop per protocol (default: scale)"

    def compute(self, sr: EvalImage, hr: EvalImage, ctx: EvalContext) -> float:
        # inf when SR equals HR after the crop (MSE = 0), as MATLAB; run/score then fail this metric for
        # this image (metrics.base.evaluate_metric) instead of averaging an infinite value
        return psnr(matlab.shave(sr.y, ctx.crop_border), matlab.shave(hr.y, ctx.crop_border))


@register_metric("ssim_y")
class SSIMY(Metric):
    name = "ssim_y"
    higher_is_better = True
    description = "SSIM (Wang et al. ssim_index.m) on Y, border crop per protocol"

    window = 11

    def compute(self, sr: EvalImage, hr: EvalImage, ctx: EvalContext) -> float:
        a, b = matlab.shave(sr.y, ctx.crop_border), matlab.shave(hr.y, ctx.crop_border)
        if min(a.shape) < self.window:
            # ssim_index.m returns -Inf here, which would become the dataset mean: a per-image failure instead
            raise MetricError(f"ssim_y needs at least {self.window}x{self.window} pixels after the "
                              f"{ctx.crop_border}-px border crop, got {a.shape[1]}x{a.shape[0]}")
        return ssim_index(a, b, window_size=self.window)


@register_metric("rmse")
class RMSE(Metric):
    name = "rmse"
    higher_is_better = False
    description = "RMSE on Y of uint8 images, 4-px shave (PIRM-2018); dataset value sqrt(mean(MSE))"

    def compute(self, sr: EvalImage, hr: EvalImage, ctx: EvalContext) -> float:
        diff = matlab.shave(sr.y, PIRM_SHAVE) - matlab.shave(hr.y, PIRM_SHAVE)
        return float(np.sqrt(np.mean(diff * diff)))

    def aggregate(self, values: np.ndarray) -> float:
        values = np.asarray(values, dtype=np.float64)
        return float(np.sqrt(np.mean(values * values))) if values.size else float("nan")
