"""Ma et al.'s no-reference SR quality score (Ma, Yang, Yang, Yang, CVIU 2017; MATLAB chaoma99/sr-metric).

`quality_predict.m`: three groups of features of the grey image, one regression forest per group
(randomforest-matlab `regRF_predict`), then score = [1 s1 s2 s3] * model.linear.
  f1 (18) local frequency: `block_dct.m` on the image and two Gaussian-pyramid levels (3x3 Gaussian,
     sigma 0.5, zero padding, keep every second pixel from the second): per 7x7 block (3x3 step with a
     2-px zero border, `blkproc`), DCT shape (GGD), coefficient of variation and the variance of three
     oriented coefficients of variation; pooled as mean of the lowest 10% / highest 10% and the mean.
  f2 (45) global frequency: `global_gsm.m` on a 2-level, 6-orientation steerable pyramid built in the
     Fourier domain (`buildSFpyr`), subbands divisively normalised by a Gaussian scale mixture
     (`norm_sender_normalized.m`), GGD shapes per band and per orientation across scales, and the
     SSIM contrast-structure terms between scales and between orientations.
  f3 (75) spatial: singular values of the 5x5 distinct patches (`im2col`) of the three pyramid levels.
Every MATLAB quirk that changes numbers is kept and marked "MATLAB:" below. Blocks, bands and trees
are processed as arrays (no per-block loops). The trained model is an asset (`MA_MODEL`); without it
the metric raises `Unavailable` instead of inventing numbers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.fft
import scipy.io
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import correlate
from scipy.special import gamma

from .. import matlab
from ..errors import AssetError, Unavailable
from ..iqa_assets import MA_MODEL, ma_model_explicit_path
from . import register_metric
from .base import EvalContext, EvalImage
from .fidelity import filter2_valid, gaussian_kernel_1d
from .niqe import NoReferenceModelMetric, matlab_pinv, nearest_on_monotone_grid, pirm_y

GGD_EPS = 1e-7       # gama_gen_gauss.m / coeff_var_gen_gauss.m
ORIENT_EPS = 1e-8    # oriented*_dct_rho_config3.m
# MATLAB 0.03:0.001:10 (9971 values) and the ratio table of gama_gen_gauss.m (decreasing in g).
GGD_GRID = np.linspace(0.03, 10.0, 9971)
_GGD_R = gamma(1.0 / GGD_GRID) * gamma(3.0 / GGD_GRID) / gamma(2.0 / GGD_GRID) ** 2


# ---------------------------------------------------------------- shared statistics

def ggd_shape(x: np.ndarray) -> np.ndarray:
    """`gama_gen_gauss.m` along the last axis: GGD shape from var / mean(|x - mean|)^2."""
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, ddof=1)
    mean_abs = np.abs(x - mean).mean(axis=-1) ** 2
    rho = var / (mean_abs + GGD_EPS)
    return GGD_GRID[nearest_on_monotone_grid(_GGD_R, rho)]


def coeff_of_variation(x: np.ndarray, eps: float = GGD_EPS) -> np.ndarray:
    """std(|x|) / (mean(|x|) + eps) along the last axis (`coeff_var_gen_gauss.m`)."""
    a = np.abs(x)
    return a.std(axis=-1, ddof=1) / (a.mean(axis=-1) + eps)


def pool_low(values: np.ndarray) -> float:
    """Mean of the lowest ceil(10%) values (MATLAB `sorted(1:ceil(n*0.1))`)."""
    s = np.sort(values.ravel())
    return float(s[: max(math.ceil(s.size * 0.1), 1)].mean())


def pool_high(values: np.ndarray) -> float:
    """Mean from the fix(0.9 n)-th (1-based) value on (MATLAB `sorted(fix(n*0.9):end)`)."""
    s = np.sort(values.ravel())
    return float(s[max(int(s.size * 0.9) - 1, 0):].mean())


# ---------------------------------------------------------------- f1: block DCT features

def dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II matrix: dct2(B) = D @ B @ D.T, as MATLAB dct2."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    d = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    d[0] /= np.sqrt(2.0)
    return d


def blkproc_blocks(im: np.ndarray, size: int = 3, border: int = 2) -> np.ndarray:
    """`blkproc(im, [size size], [border border], fun)` inputs: (n, size+2*border, size+2*border).

    MATLAB pads with zeros to a multiple of `size` (bottom/right) and adds a zero border all round.
    """
    h, w = im.shape
    ph, pw = -h % size, -w % size
    padded = np.pad(im, ((border, border + ph), (border, border + pw)))
    win = size + 2 * border
    blocks = sliding_window_view(padded, (win, win))[::size, ::size]
    return blocks.reshape(-1, win, win)


def _orientation_masks(n: int = 7) -> list[np.ndarray]:
    """Coefficient sets of oriented{1,2,3}_dct_rho_config3.m for 7x7 blocks (0-based (row, cols))."""
    sets = [
        [(0, range(1, 7)), (1, range(2, 7)), (2, range(4, 7)), (3, range(5, 7))],
        [(1, range(1, 2)), (2, range(2, 4)), (3, range(2, 5)), (4, range(3, 7)), (5, range(4, 7)),
         (6, range(4, 7))],
    ]
    masks = []
    for rows in sets:
        m = np.zeros((n, n), bool)
        for r, cols in rows:
            m[r, list(cols)] = True
        masks.append(m)
    masks.append(masks[0].T.copy())  # set 3 is the transpose of set 1 (columns instead of rows)
    return masks


_ORIENT_MASKS = _orientation_masks()
_AC_MASK = np.ones((7, 7), bool)
_AC_MASK[0, 0] = False


def block_dct_features(im: np.ndarray) -> np.ndarray:
    """`block_dct.m`: 6 features of one pyramid level (double image in [0, 1])."""
    blocks = blkproc_blocks(im)
    d = dct_matrix(7)
    coeffs = d @ blocks @ d.T
    ac = coeffs[:, _AC_MASK]
    shape = ggd_shape(ac)
    cv = coeff_of_variation(ac)
    orient = np.stack([coeff_of_variation(coeffs[:, m], ORIENT_EPS) for m in _ORIENT_MASKS], axis=1)
    orient_var = orient.var(axis=1, ddof=1)
    return np.array([pool_low(shape), shape.mean(), pool_high(cv), cv.mean(),
                     pool_high(orient_var), orient_var.mean()])


def gaussian_pyramid(im1: np.ndarray) -> list[np.ndarray]:
    """feature_all.m: imfilter with fspecial('gaussian', 3) (sigma 0.5, zero padding), keep (2:2:end)."""
    k = gaussian_kernel_1d(3, 0.5)
    h = np.outer(k, k)
    levels = [im1]
    for _ in range(2):
        f = correlate(levels[-1], h, mode="constant")
        levels.append(f[1::2, 1::2])
    return levels


# ---------------------------------------------------------------- f2: steerable pyramid + GSM

def _point_op(x: np.ndarray, lut: np.ndarray, origin: float, increment: float) -> np.ndarray:
    """matlabPyrTools pointOp (MEX): linear interpolation, linear extrapolation from the end segments."""
    pos = (x - origin) / increment
    idx = np.clip(np.trunc(pos).astype(np.int64), 0, lut.size - 2)
    return lut[idx] + (lut[idx + 1] - lut[idx]) * (pos - idx)


def _rcos_fn(width: float = 1.0, position: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    sz = 256
    x = np.pi * np.arange(-sz - 1, 2) / (2 * sz)
    y = np.cos(x) ** 2
    y[0] = y[1]
    y[sz + 2] = y[sz + 1]
    return position + (2 * width / np.pi) * (x + np.pi / 4), y


def steerable_pyramid(im: np.ndarray, height: int = 2, nbands: int = 6) -> list[np.ndarray]:
    """`buildSFpyr(im, height, nbands-1)`: [hi0, bands of level 1 ..., bands of level `height`, lowpass]."""
    dims = np.array(im.shape)
    ctr = np.ceil((dims + 0.5) / 2).astype(int)  # 1-based centre
    xr = (np.arange(1, dims[1] + 1) - ctr[1]) / (dims[1] / 2)
    yr = (np.arange(1, dims[0] + 1) - ctr[0]) / (dims[0] / 2)
    xramp, yramp = np.meshgrid(xr, yr)
    angle = np.arctan2(yramp, xramp)
    rad = np.sqrt(xramp ** 2 + yramp ** 2)
    rad[ctr[0] - 1, ctr[1] - 1] = rad[ctr[0] - 1, ctr[1] - 2]
    log_rad = np.log2(rad)
    xrcos, yrcos = _rcos_fn(1.0, -0.5)
    yrcos = np.sqrt(yrcos)
    yircos = np.sqrt(1.0 - yrcos ** 2)
    step = xrcos[1] - xrcos[0]
    imdft = np.fft.fftshift(scipy.fft.fft2(im))
    lodft = imdft * _point_op(log_rad, yircos, xrcos[0], step)
    hi0 = scipy.fft.ifft2(np.fft.ifftshift(imdft * _point_op(log_rad, yrcos, xrcos[0], step))).real

    lutsize = 1024
    xcosn = np.pi * np.arange(-(2 * lutsize + 1), lutsize + 2) / lutsize
    order = nbands - 1
    const = (2 ** (2 * order)) * math.factorial(order) ** 2 / (nbands * math.factorial(2 * order))
    ycosn = np.sqrt(const) * np.cos(xcosn) ** order
    pyr = [hi0]
    for _ in range(height):
        log_rad = log_rad + 1
        himask = _point_op(log_rad, yrcos, xrcos[0], step)
        for b in range(nbands):
            anglemask = _point_op(angle, ycosn, xcosn[0] + np.pi * b / nbands, xcosn[1] - xcosn[0])
            banddft = ((-1j) ** order) * lodft * anglemask * himask
            pyr.append(scipy.fft.ifft2(np.fft.ifftshift(banddft)).real)
        d = np.array(lodft.shape)
        c = np.ceil((d + 0.5) / 2).astype(int)
        lodims = np.ceil((d - 0.5) / 2).astype(int)
        loctr = np.ceil((lodims + 0.5) / 2).astype(int)
        start = c - loctr  # 0-based
        sl = (slice(start[0], start[0] + lodims[0]), slice(start[1], start[1] + lodims[1]))
        log_rad, angle, lodft = log_rad[sl], angle[sl], lodft[sl]
        lodft = lodft * _point_op(log_rad, np.abs(yircos), xrcos[0], step)
    pyr.append(scipy.fft.ifft2(np.fft.ifftshift(lodft)).real)
    return pyr


def gsm_normalize(bands: list[np.ndarray], n_scales: int = 2, n_or: int = 6) -> list[np.ndarray]:
    """`norm_sender_normalized(pyr, pind, 2, 6, 1, 1, 3, 3, 50)` on the oriented bands (scale-major).

    Each coefficient is divided by sqrt(v' C^-1 v / N), v = its 3x3 neighbourhood, its parent (next
    coarser band, MATLAB bicubic x2) and the same position in the other orientations; C = the band's
    mean outer product with negative eigenvalues clipped (total variance kept). A guard band of
    16 / 2^(scale-1) px is cut and the mean removed. MATLAB: `prnt = nband < Nband - Nor` gives a
    parent to the first n_or - 1 orientations of the finest scale only, not to the last one.
    """
    n_total = len(bands) + 2  # + hi0 and lowpass in pind
    out = []
    for s in range(n_scales):
        for o in range(n_or):
            nband = s * n_or + o + 2  # MATLAB's 1-based index into pind
            aux = bands[s * n_or + o]
            h, w = aux.shape
            has_parent = nband < (n_total - 1) - n_or
            cols = [aux[1 + dy:h - 1 + dy, 1 + dx:w - 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
            if has_parent:
                parent = matlab.imresize(bands[(s + 1) * n_or + o], 2.0)[:h, :w]
                cols.append(parent[1:-1, 1:-1])
            n_neigh = len(cols)
            cols += [bands[s * n_or + k][1:-1, 1:-1] for k in range(n_or) if k != o]
            # One neighbourhood vector per column (rows contiguous), so both products below are GEMMs.
            yt = np.empty((len(cols), (h - 2) * (w - 2)))
            for r, c in enumerate(cols):
                yt[r].reshape(h - 2, w - 2)[...] = c
            cx = yt @ yt.T / yt.shape[1]
            lam, q = np.linalg.eigh(cx)
            pos = lam * (lam > 0)
            lam = pos * lam.sum() / (pos.sum() + (pos.sum() == 0))
            cx = (q * lam) @ q.T
            o_c = aux[1:-1, 1:-1].ravel()
            o_c = o_c - o_c.mean()
            z = np.sqrt(np.einsum("ij,ij->j", matlab_pinv(cx).T @ yt, yt) / n_neigh)
            # MATLAB keeps only z ~= 0 (and would then fail to reshape); such pixels become 0 here.
            g = np.divide(o_c, z, out=np.zeros_like(o_c), where=z != 0).reshape(h - 2, w - 2)
            gb = 16 // (2 ** s)
            g = g[gb:-gb, gb:-gb]
            out.append(g - g.mean())
    return out


_SSIM_K = gaussian_kernel_1d(11, 1.5)
_SSIM_C2 = (0.03 * 255) ** 2


def local_moments(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, local mean, local variance) with the 11x11 Gaussian window of ssim_index_new.m, 'valid'."""
    mu = filter2_valid(a, _SSIM_K)
    return a, mu, filter2_valid(a * a, _SSIM_K) - mu * mu


def ssim_cs(ma_: tuple, mb: tuple) -> float:
    """Mean contrast-structure term of `ssim_index_new.m` (C2 = (0.03*255)^2) from `local_moments`.

    Taking the moments lets one band's filtering serve all the pairs it is in.
    """
    a, mu1, s1 = ma_
    b, mu2, s2 = mb
    s12 = filter2_valid(a * b, _SSIM_K) - mu1 * mu2
    return float(np.mean((2 * s12 + _SSIM_C2) / (s1 + s2 + _SSIM_C2)))


def global_gsm_features(img: np.ndarray, n_or: int = 6) -> np.ndarray:
    """`global_gsm.m`: 45 features of the grey image as double in [0, 255]."""
    pyr = steerable_pyramid(np.asarray(img, np.float64), 2, n_or)
    hp, bands = pyr[0], pyr[1:-1]
    sub = gsm_normalize(bands, 2, n_or)
    f = [ggd_shape(s.ravel()) for s in sub]
    f += [ggd_shape(np.concatenate([sub[i].ravel(), sub[i + n_or].ravel()])) for i in range(n_or)]
    hp_m = local_moments(hp)
    for band in bands:  # MATLAB: the raw (not normalised) band, bicubic-resized to the hi0 size
        resized = band if band.shape == hp.shape else matlab.imresize(band, output_shape=hp.shape)
        f.append(ssim_cs(local_moments(resized), hp_m))
    fine = [local_moments(s) for s in sub[:n_or]]
    f += [ssim_cs(fine[i], fine[j]) for i in range(n_or) for j in range(i + 1, n_or)]
    return np.array(f, dtype=np.float64)


# ---------------------------------------------------------------- f3: spatial (PCA) features

def im2col_distinct(im: np.ndarray, size: int = 5) -> np.ndarray:
    """MATLAB im2col(im, [size size], 'distinct'): zero-padded, one column per block."""
    h, w = im.shape
    padded = np.pad(im, ((0, -h % size), (0, -w % size)))
    hb, wb = padded.shape[0] // size, padded.shape[1] // size
    return padded.reshape(hb, size, wb, size).transpose(3, 1, 2, 0).reshape(size * size, -1)


def spatial_features(levels: list[np.ndarray]) -> np.ndarray:
    # svd(col) of MATLAB; the transpose has the same singular values and LAPACK is ~4x faster on it.
    return np.concatenate([np.linalg.svd(im2col_distinct(im).T, compute_uv=False) for im in levels])


@dataclass
class MaFeatures:
    local_freq: np.ndarray   # f1, 18
    global_freq: np.ndarray  # f2, 45
    spatial: np.ndarray      # f3, 75


def ma_features(gray_uint8: np.ndarray) -> MaFeatures:
    """`feature_all.m` of a 2-D uint8 image."""
    g = np.asarray(gray_uint8)
    if g.ndim != 2:
        raise ValueError("ma_features expects a 2-D grey/Y image")
    levels = gaussian_pyramid(g.astype(np.float64) / 255.0)
    f1 = np.concatenate([block_dct_features(im) for im in levels])
    return MaFeatures(f1, global_gsm_features(g.astype(np.float64)), spatial_features(levels))


# ---------------------------------------------------------------- regression forests

@dataclass
class RegressionForest:
    """randomforest-matlab regression forest (arrays nrnodes x ntree, 1-based node/feature ids)."""

    left: np.ndarray
    right: np.ndarray
    status: np.ndarray  # -1 = terminal
    split: np.ndarray   # `upper`: go left when x[var] <= split
    value: np.ndarray   # `avnode`
    var: np.ndarray     # `mbest`
    coef: np.ndarray | None = None  # optional bias correction coef(1) + coef(2) * y

    def predict(self, x: np.ndarray) -> float:
        """regRF_predict for one feature vector: mean over trees; all trees walk down together."""
        x = np.asarray(x, np.float64).ravel()
        trees = np.arange(self.left.shape[1])
        k = np.zeros(trees.size, dtype=np.int64)
        for _ in range(self.left.shape[0]):
            active = self.status[k, trees] != -1
            if not active.any():
                break
            go_left = x[self.var[k, trees] - 1] <= self.split[k, trees]
            nxt = np.where(go_left, self.left[k, trees], self.right[k, trees]) - 1
            k = np.where(active, nxt, k)
        y = float(np.mean(self.value[k, trees]))
        if self.coef is not None and np.any(self.coef != 0):
            y = float(self.coef[0] + self.coef[1] * y)
        return y


@dataclass
class MaModel:
    forests: tuple[RegressionForest, RegressionForest, RegressionForest]
    linear: np.ndarray  # 4 weights: intercept, s1, s2, s3

    def predict(self, feats: MaFeatures) -> float:
        s = [f.predict(x) for f, x in zip(self.forests, (feats.local_freq, feats.global_freq, feats.spatial))]
        return float(np.dot(np.concatenate([[1.0], s]), self.linear))


def _field(struct, name: str):
    try:
        return getattr(struct, name)
    except AttributeError as exc:
        raise AssetError(f"Ma model: field '{name}' missing") from exc


def _forest_from_struct(rf) -> RegressionForest:
    ntree = int(np.asarray(_field(rf, "ntree")).ravel()[0])

    def arr(name, dtype):
        a = np.asarray(_field(rf, name), dtype=dtype)
        return a if a.ndim == 2 else a.reshape(-1, ntree)  # squeeze_me flattens a single tree

    coef = getattr(rf, "coef", None)
    return RegressionForest(left=arr("lDau", np.int64), right=arr("rDau", np.int64),
                            status=arr("nodestatus", np.int64), split=arr("upper", np.float64),
                            value=arr("avnode", np.float64), var=arr("mbest", np.int64),
                            coef=None if coef is None else np.asarray(coef, np.float64).ravel())


@lru_cache(maxsize=2)
def load_ma_model(path: str) -> MaModel:
    """Read the canonical `model.mat` (struct `model` with cell `rf` of 3 forests and `linear`)."""
    try:
        data = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)
    except Exception as exc:  # scipy raises several types for non-MAT files
        raise AssetError(f"{path}: cannot read as a MATLAB model file ({exc})") from exc
    if "model" not in data:
        raise AssetError(f"{path}: no 'model' struct (expected chaoma99/sr-metric model.mat)")
    model = data["model"]
    rfs = np.asarray(_field(model, "rf"), dtype=object).ravel()
    if rfs.size != 3:
        raise AssetError(f"{path}: expected 3 forests in model.rf, found {rfs.size}")
    linear = np.asarray(_field(model, "linear"), np.float64).ravel()
    if linear.size != 4:
        raise AssetError(f"{path}: expected 4 linear weights, found {linear.size}")
    return MaModel(tuple(_forest_from_struct(rf) for rf in rfs), linear)


def resolve_ma_model() -> MaModel:
    """The trained model, or Unavailable with the reason (the run records the metric as skipped)."""
    try:
        path = MA_MODEL.resolve(ma_model_explicit_path())
    except AssetError as exc:
        raise Unavailable(f"Ma et al. model file not available ({exc}); set SRBENCH_MA_MODEL to a copy of "
                          "chaoma99/sr-metric model.mat or place it at $SRBENCH_SHARED/iqa-params/ma_model.mat")
    return load_ma_model(str(path))


def ma_score(gray_uint8: np.ndarray, model: MaModel | None = None) -> float:
    """`quality_predict(im)` of a 2-D uint8 image (higher is better, about 0..10)."""
    model = model or resolve_ma_model()
    return model.predict(ma_features(gray_uint8))


class _MaBase(NoReferenceModelMetric):
    higher_is_better = True
    resolve_model = staticmethod(resolve_ma_model)


@register_metric("ma")
class Ma(_MaBase):
    name = "ma"
    description = "Ma et al. score (chaoma99/sr-metric quality_predict) on MATLAB rgb2gray, no crop"

    def compute(self, sr: EvalImage, hr: EvalImage | None, ctx: EvalContext) -> float:
        self.prepare()
        return ma_score(sr.gray, self._model)


@register_metric("ma_pirm")
class MaPirm(_MaBase):
    name = "ma_pirm"
    description = "Ma et al. score as in PIRM-2018 (Y of uint8 rgb2ycbcr, 4-px shave); the Ma inside PI"

    def compute(self, sr: EvalImage, hr: EvalImage | None, ctx: EvalContext) -> float:
        self.prepare()
        from .perceptual_index import pirm_scores

        return pirm_scores(sr, need_ma=True).ma


__all__ = ["MaFeatures", "MaModel", "RegressionForest", "ma_features", "ma_score", "load_ma_model",
           "pirm_y"]
