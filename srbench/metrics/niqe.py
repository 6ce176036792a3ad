"""NIQE (Mittal, Soundararajan, Bovik 2012) exactly as the official MATLAB release `computequality.m`.

Pipeline (niqe_release, the code the PIRM-2018 scoring and most SR papers use):
  1. image -> MATLAB `rgb2gray` (standalone NIQE) or the Y of a uint8 `rgb2ycbcr` with a 4-px shave
     (PIRM `convert_shave_image.m`), as double in [0, 255]; crop to a multiple of 96x96.
  2. For two scales (the second is MATLAB `imresize(im, 0.5)` bicubic on the double image):
     MSCN = (im - mu) / (sigma + 1), mu/sigma from a 7x7 Gaussian window (sigma 7/6) with
     'replicate' borders; per block (96/scale pixels square) 18 features: an AGGD fit of the MSCN
     values (alpha, mean of the two betas) and of the products with 4 circularly shifted copies
     *within the block* (`circshift` in `computefeature.m`), each giving alpha, mean, beta_l, beta_r.
  3. MVG fit of the block features (`nanmean`, `nancov` on complete rows) and the distance
     sqrt(d' pinv((cov_pris + cov_dist)/2) d) to the pristine model.
`computequality.m` also computes a block sharpness map, but (unlike the model-building
`estimatemodelparam.m`) never uses it, so it is not computed here.

Zero rule (the one deliberate deviation, see /shared/iqa-params/NIQE-NOTES.md): in flat or saturated
areas `im - mu` is mathematically zero but numerically a residue of ~1e-13 whose sign depends on the
filter's summation order. The AGGD fit splits values by sign, so those residues move the score (by up
to 0.2 on images with large flat areas) and MATLAB's own value is one draw from that noise. Here a
coefficient whose numerator |im - mu| is at most `ZERO_TOL` grey levels is set to exactly 0, i.e. the
value the formula has in exact arithmetic. Measured on the calibration images and 60 dataset images
(rgb2gray and Y planes, both scales), the rounding residues are all below 6e-14 (2 ulp of 255) and the
genuine numerators all above 1e-9 at scale 2 (above 1e-7 at scale 1, where the input is integer).
`ZERO_TOL` = 1e-11 sits in the middle of that gap (tests/test_niqe.py checks the gap on real images),
so the rule removes only rounding noise and the score no longer moves under perturbations of the
input far below one grey level (checked down to 1e-12).

All blocks are processed at once (no per-block loops).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.io
from scipy.ndimage import correlate1d
from scipy.special import gamma

from .. import matlab
from ..errors import AssetError, ChecksumError, Unavailable
from ..iqa_assets import NIQE_MODEL
from . import register_metric
from .base import EvalContext, EvalImage, Metric, MetricError, model_digest

BLOCK = 96
PIRM_SHAVE = 4
ZERO_TOL = 1e-11
# MATLAB 0.2:0.001:10 (9801 values); linspace reproduces the colon operator's endpoints exactly.
AGGD_GAMMA_GRID = np.linspace(0.2, 10.0, 9801)
_AGGD_R = gamma(2.0 / AGGD_GAMMA_GRID) ** 2 / (gamma(1.0 / AGGD_GAMMA_GRID) * gamma(3.0 / AGGD_GAMMA_GRID))
_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))  # computefeature.m: horizontal, vertical, two diagonals


def nearest_on_monotone_grid(table: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index of the first minimum of |table - v| for each v, as MATLAB `[~, i] = min(abs(table - v))`.

    `table` must be strictly monotone. O(log n) per value via searchsorted instead of an n-wide
    broadcast; NaN values give index 0 (MATLAB's `min` over an all-NaN vector returns index 1).
    """
    table = np.asarray(table, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    increasing = table[-1] > table[0]
    asc = table if increasing else table[::-1]
    pos = np.clip(np.searchsorted(asc, values), 1, asc.size - 1)
    lo, hi = pos - 1, pos
    d_lo, d_hi = np.abs(asc[lo] - values), np.abs(asc[hi] - values)
    if increasing:
        idx = np.where(d_lo <= d_hi, lo, hi)           # ties -> the smaller original index
    else:
        idx = np.where(d_hi <= d_lo, hi, lo)           # reversed: asc index hi is original n-1-hi
        idx = table.size - 1 - idx
    return np.where(np.isnan(values), 0, idx)


def aggd_fit(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`estimateaggdparam.m` on every row of `v` at once: (alpha, beta_l, beta_r) per row.

    A row without negative (positive) values gets beta_l (beta_r) = NaN, and alpha = 0.2 when the
    ratio is undefined, as MATLAB does (mean of an empty vector is NaN; min over NaNs picks index 1).
    """
    v = np.asarray(v, dtype=np.float64)
    sq = v * v
    neg, pos = v < 0, v > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.sqrt(np.sum(sq * neg, axis=-1) / np.sum(neg, axis=-1))
        right = np.sqrt(np.sum(sq * pos, axis=-1) / np.sum(pos, axis=-1))
        gh = left / right
        rhat = np.mean(np.abs(v), axis=-1) ** 2 / np.mean(sq, axis=-1)
        rhatnorm = rhat * (gh ** 3 + 1) * (gh + 1) / ((gh ** 2 + 1) ** 2)
    alpha = AGGD_GAMMA_GRID[nearest_on_monotone_grid(_AGGD_R, rhatnorm)]
    scale = np.sqrt(gamma(1.0 / alpha) / gamma(3.0 / alpha))
    return alpha, left * scale, right * scale


def gaussian_window_1d(size: int = 7, sigma: float = 7.0 / 6.0) -> np.ndarray:
    # fspecial('gaussian', 7, 7/6) normalised is the outer product of this normalised 1-D kernel.
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    k = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return k / k.sum()


def mscn(im: np.ndarray, zero_tol: float = ZERO_TOL) -> tuple[np.ndarray, np.ndarray]:
    """MSCN coefficients (im - mu)/(sigma + 1) with replicate borders, and the numerator im - mu."""
    k = gaussian_window_1d()

    def blur(a):
        return correlate1d(correlate1d(a, k, axis=0, mode="nearest"), k, axis=1, mode="nearest")

    mu = blur(im)
    sigma = np.sqrt(np.abs(blur(im * im) - mu * mu))
    num = im - mu
    if zero_tol > 0:
        num = np.where(np.abs(num) <= zero_tol, 0.0, num)
    return num / (sigma + 1.0), num


def _blocks(a: np.ndarray, bs: int) -> np.ndarray:
    """(H, W) with H, W multiples of bs -> (nblocks, bs, bs), row-major block order."""
    h, w = a.shape
    return a.reshape(h // bs, bs, w // bs, bs).swapaxes(1, 2).reshape(-1, bs, bs)


def block_features(structdis: np.ndarray, bs: int) -> np.ndarray:
    """`computefeature.m` on every bs x bs block: (nblocks, 18)."""
    blocks = _blocks(structdis, bs)
    n = blocks.shape[0]
    flat = blocks.reshape(n, -1)
    alpha, bl, br = aggd_fit(flat)
    feats = [alpha, (bl + br) / 2.0]
    for shift in _SHIFTS:
        pair = (blocks * np.roll(blocks, shift, axis=(1, 2))).reshape(n, -1)
        alpha, bl, br = aggd_fit(pair)
        mean_param = (br - bl) * (gamma(2.0 / alpha) / gamma(1.0 / alpha))
        feats += [alpha, mean_param, bl, br]
    return np.stack(feats, axis=1)


def niqe_features(im: np.ndarray, zero_tol: float = ZERO_TOL, block: int = BLOCK) -> np.ndarray:
    """Block features of both scales, (nblocks, 36), of a 2-D image with values in [0, 255]."""
    im = np.asarray(im, dtype=np.float64)
    if im.ndim != 2:
        raise ValueError("niqe_features expects a 2-D (grey) image")
    h, w = (im.shape[0] // block) * block, (im.shape[1] // block) * block
    if h == 0 or w == 0:
        raise MetricError(f"NIQE needs at least one {block}x{block} block, got {im.shape[1]}x{im.shape[0]} "
                          "pixels (width x height)")
    im = im[:h, :w]
    feats = []
    for scale in (1, 2):
        structdis, _ = mscn(im, zero_tol)
        feats.append(block_features(structdis, block // scale))
        if scale == 1:
            im = matlab.imresize(im, 0.5)
    return np.concatenate(feats, axis=1)


def matlab_pinv(a: np.ndarray) -> np.ndarray:
    """MATLAB pinv: singular values above max(size) * eps(max(s)) are inverted."""
    u, s, vt = np.linalg.svd(a)
    tol = max(a.shape) * np.spacing(s.max()) if s.size else 0.0
    keep = s > tol
    return (vt[keep].T / s[keep]) @ u[:, keep].T


def mvg_distance(feats: np.ndarray, mu_pris: np.ndarray, cov_pris: np.ndarray) -> float:
    """Distance of the features' MVG fit to the pristine model, with MATLAB nanmean / nancov.

    `computequality.m` calls `nanmean(distparam)` and `nancov(distparam)` on the nblocks x 36 matrix. With
    a single block that matrix is a 1x36 row vector, and MATLAB treats a vector as one variable: nanmean
    gives the scalar mean of its non-NaN entries and nancov the scalar variance of them (n - 1
    normalisation). The scalar mean is then subtracted from every entry of mu_prisparam and the scalar
    variance added to every entry of cov_prisparam. That is what MATLAB computes, so it is reproduced
    here (tests/test_niqe.py checks it against a direct emulation of those MATLAB semantics).
    """
    if feats.shape[0] == 1:
        row = feats[0][~np.isnan(feats[0])]
        mu_dist = np.mean(row) if row.size else np.nan
        cov_dist = np.var(row, ddof=1) if row.size > 1 else np.nan
    else:
        mu_dist = np.nanmean(feats, axis=0)
        complete = feats[~np.isnan(feats).any(axis=1)]
        cov_dist = np.cov(complete, rowvar=False) if complete.shape[0] >= 2 else np.nan
    d = np.asarray(mu_pris, np.float64).ravel() - mu_dist
    if not np.all(np.isfinite(cov_dist)) or not np.all(np.isfinite(d)):  # as MATLAB: NaN propagates
        return float("nan")
    inv = matlab_pinv((np.asarray(cov_pris, np.float64) + cov_dist) / 2.0)
    return float(np.sqrt(d @ inv @ d))


@lru_cache(maxsize=4)
def _load_model(path: str) -> tuple[np.ndarray, np.ndarray]:
    data = scipy.io.loadmat(path)
    try:
        return np.asarray(data["mu_prisparam"], np.float64).ravel(), np.asarray(data["cov_prisparam"], np.float64)
    except KeyError as exc:
        raise AssetError(f"{path}: not a NIQE model file (no {exc.args[0]})") from exc


def niqe_model(explicit: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    return _load_model(str(NIQE_MODEL.resolve(explicit)))


def resolve_niqe_model() -> tuple[np.ndarray, np.ndarray]:
    """The pristine model, or Unavailable when the file cannot be found (a bad checksum stays an error)."""
    try:
        return niqe_model()
    except ChecksumError:
        raise
    except AssetError as exc:
        raise Unavailable(f"NIQE model file not available ({exc})") from exc


def niqe(im: np.ndarray, model: tuple[np.ndarray, np.ndarray] | None = None, zero_tol: float = ZERO_TOL) -> float:
    """NIQE of a 2-D image in [0, 255] (uint8 or float), `computequality(im, 96, 96, 0, 0, ...)`.

    An image holding exactly one 96x96 block gets MATLAB's value: the "distribution" of a single feature
    vector is fitted as one scalar mean and one scalar variance (see `mvg_distance`), so the distance is
    dominated by the pristine model: 39.80 +- 0.01 for every 104x104 image tried (synthetic patterns, a
    calibration image, a Set5 crop), where NIQE values of whole images are 3..10. srbench reports it because
    that is what the MATLAB scripts papers use report; images this small are outside what NIQE measures.
    """
    mu_pris, cov_pris = model if model is not None else niqe_model()
    return mvg_distance(niqe_features(im, zero_tol), mu_pris, cov_pris)


def pirm_y(img: EvalImage) -> np.ndarray:
    """PIRM `convert_shave_image.m`: Y of the uint8 rgb2ycbcr (grey images: themselves), 4-px shave."""
    y = img.pixels[:, :, 0] if img.is_gray else matlab.rgb2ycbcr(img.pixels)[:, :, 0]
    return matlab.shave(y, PIRM_SHAVE)


class NoReferenceModelMetric(Metric):
    """A no-reference metric that needs a model file, resolved once by `prepare` (Unavailable if missing)."""

    needs_reference = False
    version = "1"
    resolve_model = None  # staticmethod in subclasses: () -> model, raises Unavailable
    transient = ("_model",)

    def __init__(self):
        self._model = None

    def prepare(self) -> None:
        if self._model is None:
            self._model = type(self).resolve_model()

    def identity(self) -> str:
        self.prepare()
        return f"{super().identity()}+model:{model_digest(self._model)}"


class _NIQEBase(NoReferenceModelMetric):
    higher_is_better = False
    resolve_model = staticmethod(resolve_niqe_model)

    def _score(self, plane: np.ndarray) -> float:
        self.prepare()
        return niqe(plane, self._model)


@register_metric("niqe")
class NIQE(_NIQEBase):
    name = "niqe"
    description = "NIQE, official niqe_release computequality.m on MATLAB rgb2gray, no crop (lower is better)"

    def compute(self, sr: EvalImage, hr: EvalImage | None, ctx: EvalContext) -> float:
        return self._score(sr.gray)


@register_metric("niqe_pirm")
class NIQEPirm(_NIQEBase):
    name = "niqe_pirm"
    description = "NIQE as in PIRM-2018 (Y of uint8 rgb2ycbcr, 4-px shave); the NIQE inside PI"

    def compute(self, sr: EvalImage, hr: EvalImage | None, ctx: EvalContext) -> float:
        from .perceptual_index import pirm_scores  # shares the Y plane with PI

        return pirm_scores(sr, need_ma=False).niqe
