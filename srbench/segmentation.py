"""Segmentation priors for the semantic-map methods (Stage-GAN, SPSAGAN).

The papers rely on label maps (CMP Facades) or on a segmentation network trained on COCO/ADE (8 outdoor
classes); neither is available here. A prior is therefore pluggable:

* `ClusterPrior` (the default, no network): every pixel gets a 4-d colour/texture feature (local mean of
  MATLAB Y, Cb, Cr and the log local standard deviation of Y) and is softly assigned to a *fixed* codebook
  of 8 classes. The codebook was fitted once with k-means on T91 + General100 (training images only,
  `fit_codebook` + methods/spsagan/fit_codebook.py) and is frozen below, so class k means the same
  colour/texture family on every image. These classes are unsupervised colour/texture clusters, not the
  papers' semantic categories (sky, plant, building, ...).
* `FolderPrior`: the user's own probability maps, `<folder>/<key>.npy` holding HxWxK or KxHxW
  non-negative floats whose K channels sum to 1 per pixel (e.g. the output of a real segmentation net).
  `<key>` is tried in order: the keys the caller passes (SPSAGAN: the image name, then the content key of
  its LR), then `content_key(image)` (first 16 hex digits of the sha256 of the uint8 HxWxC pixels the
  prior is asked about).

`prior_from_spec` picks one from a string: "kmeans" (default) or "folder:<path>"; the SR adapters read the
spec from the SRBENCH_SEG_PRIOR environment variable.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from scipy import ndimage

from . import matlab
from .errors import UserError

NUM_CLASSES = 8
# Feature scaling: colour planes in [0, 1] units, texture = log1p(local std of Y in grey levels) / 4.
_SMOOTH_SIGMA = 1.5   # local-mean window (pixels) so clusters follow regions rather than single pixels
_TEXTURE_SIGMA = 2.0  # window of the local standard deviation
# Softness of the assignment: a pixel 0.1 feature units away from a second centre still gets ~e^-2 of it.
_TEMPERATURE = 0.05

# k-means codebook (NUM_CLASSES x 4: Y, Cb, Cr, texture), fitted by `fit_codebook` on T91 + General100
# (seed 0, 4000 random pixels per image, 50 Lloyd iterations, k-means++ start) and ordered by Y.
DEFAULT_CODEBOOK = np.array([
    [0.2016, 0.4795, 0.5149, 0.2953],
    [0.2955, 0.4624, 0.5180, 0.6003],
    [0.3590, 0.4484, 0.5441, 0.8468],
    [0.4201, 0.3728, 0.7561, 0.4976],
    [0.5373, 0.4220, 0.5330, 0.3412],
    [0.6254, 0.4303, 0.5363, 0.8572],
    [0.6567, 0.4367, 0.5367, 0.5975],
    [0.7829, 0.4712, 0.5198, 0.2624],
])

# Colours used to draw a label map as an RGB "semantic map" image (Stage-GAN consumes/produces these).
PALETTE = np.array([
    [0, 0, 170], [0, 85, 255], [0, 170, 255], [85, 255, 170],
    [170, 255, 85], [255, 170, 0], [255, 85, 0], [170, 0, 0],
    [0, 0, 255], [255, 255, 0], [0, 255, 255], [255, 0, 255],
], dtype=np.uint8)


def pixel_features(img: np.ndarray) -> np.ndarray:
    """uint8 HxWx3 (or HxWx1) -> HxWx4 float64 features: smoothed Y, Cb, Cr in [0, 1] and texture."""
    img = np.asarray(img)
    if img.dtype != np.uint8:
        raise ValueError("pixel_features expects uint8 pixels")
    if img.ndim == 2:
        img = img[:, :, None]
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    ycc = matlab.rgb2ycbcr(img).astype(np.float64)
    smooth = np.stack([ndimage.gaussian_filter(ycc[:, :, c], _SMOOTH_SIGMA, mode="nearest")
                       for c in range(3)], axis=2) / 255.0
    y = ycc[:, :, 0]
    mean = ndimage.gaussian_filter(y, _TEXTURE_SIGMA, mode="nearest")
    mean_sq = ndimage.gaussian_filter(y * y, _TEXTURE_SIGMA, mode="nearest")
    std = np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))
    texture = np.log1p(std) / 4.0
    return np.concatenate([smooth, texture[:, :, None]], axis=2)


def _sq_dist(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(n, d), (k, d) -> (n, k) squared Euclidean distances without an (n, k, d) temporary."""
    d2 = (points ** 2).sum(1)[:, None] - 2.0 * points @ centres.T + (centres ** 2).sum(1)[None]
    return np.maximum(d2, 0.0)


def kmeans(points: np.ndarray, k: int, iters: int = 50, seed: int = 0) -> np.ndarray:
    """Lloyd's k-means with k-means++ seeding on an (n, d) array; returns (k, d) centres sorted by column 0."""
    points = np.asarray(points, dtype=np.float64)
    if len(points) < k:
        raise ValueError(f"k-means needs at least {k} points, got {len(points)}")
    rng = np.random.default_rng(seed)
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        d2 = _sq_dist(points, np.array(centres)).min(axis=1)
        total = d2.sum()
        probs = d2 / total if total > 0 else np.full(len(points), 1.0 / len(points))
        centres.append(points[rng.choice(len(points), p=probs)])
    centres = np.array(centres)
    for _ in range(iters):
        labels = np.argmin(_sq_dist(points, centres), axis=1)
        counts = np.bincount(labels, minlength=k)
        sums = np.zeros_like(centres)
        np.add.at(sums, labels, points)
        moved = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centres)
        if np.allclose(moved, centres):
            break
        centres = moved
    return centres[np.argsort(centres[:, 0], kind="stable")]


def fit_codebook(images, k: int = NUM_CLASSES, samples_per_image: int = 4000, seed: int = 0) -> np.ndarray:
    """Fit the class codebook: k-means over random pixel features of `images` (iterable of uint8 arrays)."""
    rng = np.random.default_rng(seed)
    chunks = []
    for img in images:
        feats = pixel_features(img).reshape(-1, 4)
        take = rng.choice(len(feats), size=min(samples_per_image, len(feats)), replace=False)
        chunks.append(feats[take])
    if not chunks:
        raise ValueError("fit_codebook: no images")
    return kmeans(np.concatenate(chunks), k, seed=seed)


def soft_assign(features: np.ndarray, codebook: np.ndarray, temperature: float = _TEMPERATURE) -> np.ndarray:
    """HxWxd features -> HxWxK probabilities: softmax of -squared distance / (2 T^2) to each centre."""
    d2 = ((features[:, :, None, :] - codebook[None, None]) ** 2).sum(-1)
    logits = -d2 / (2.0 * temperature ** 2)
    logits -= logits.max(axis=2, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=2, keepdims=True)


def render_labels(labels: np.ndarray, palette: np.ndarray = PALETTE) -> np.ndarray:
    """HxW integer label map -> HxWx3 uint8 colour image (the form of a Facades label picture)."""
    labels = np.asarray(labels)
    if labels.min() < 0 or labels.max() >= len(palette):
        raise ValueError(f"labels must lie in [0, {len(palette) - 1}]")
    return palette[labels]


# What a caller knows about an image: a name, or names to try in order (None entries are skipped).
PriorKey = str | tuple[str | None, ...] | None


def content_key(img: np.ndarray) -> str:
    """Key of an image for `FolderPrior`: first 16 hex digits of the sha256 of its uint8 pixels (C order)."""
    arr = np.ascontiguousarray(np.asarray(img, dtype=np.uint8))
    return hashlib.sha256(arr.tobytes()).hexdigest()[:16]


class SegmentationPrior:
    """Maps a uint8 image to per-pixel class probabilities (HxWxK float32, rows summing to 1)."""

    name = "prior"
    num_classes = NUM_CLASSES

    @property
    def identity(self) -> str:
        """What distinguishes this prior's outputs (goes into a method's cache identity)."""
        return self.name

    def probabilities(self, img: np.ndarray, key: PriorKey = None) -> np.ndarray:
        raise NotImplementedError

    def labels(self, img: np.ndarray, key: PriorKey = None) -> np.ndarray:
        return np.argmax(self.probabilities(img, key), axis=2)

    def semantic_map(self, img: np.ndarray, key: PriorKey = None) -> np.ndarray:
        """The RGB label picture Stage-GAN uses as its ground-truth semantic map."""
        return render_labels(self.labels(img, key))


class ClusterPrior(SegmentationPrior):
    """srbench's fallback: fixed colour/texture codebook, soft assignment (see module docstring)."""

    name = "kmeans"

    @property
    def identity(self) -> str:
        # the codebook and temperature define the outputs
        digest = hashlib.sha256(self.codebook.tobytes() + repr(self.temperature).encode()).hexdigest()[:12]
        return f"kmeans-{digest}"

    def __init__(self, codebook: np.ndarray | None = None, temperature: float = _TEMPERATURE):
        self.codebook = DEFAULT_CODEBOOK if codebook is None else np.asarray(codebook, dtype=np.float64)
        self.num_classes = len(self.codebook)
        self.temperature = temperature

    def probabilities(self, img: np.ndarray, key: PriorKey = None) -> np.ndarray:
        return soft_assign(pixel_features(img), self.codebook, self.temperature).astype(np.float32)


class FolderPrior(SegmentationPrior):
    """User-supplied probability maps `<folder>/<key>.npy` (see module docstring)."""

    name = "folder"

    def __init__(self, folder: str | os.PathLike, num_classes: int | None = None):
        self.folder = Path(folder).expanduser()
        if not self.folder.is_dir():
            raise UserError(f"{self.folder}: segmentation prior folder does not exist")
        self.num_classes = num_classes or NUM_CLASSES

    def _path(self, img: np.ndarray, key: PriorKey) -> Path:
        keys = (key,) if isinstance(key, str) else tuple(key or ())
        candidates = list(dict.fromkeys([k for k in keys if k] + [content_key(img)]))
        for candidate in candidates:
            path = self.folder / f"{candidate}.npy"
            if path.is_file():
                return path
        looked = " or ".join(f"{c}.npy" for c in candidates)
        raise UserError(f"{self.folder}: no probability map for this image (looked for {looked})")

    @property
    def identity(self) -> str:
        """The folder and a digest of its maps' names, sizes and modification times: SR outputs cached under
        this identity are not reused after a map is edited, added or removed."""
        listing = hashlib.sha256()
        for path in sorted(self.folder.glob("*.npy")):
            st = path.stat()
            listing.update(f"{path.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        return f"folder:{self.folder.resolve()}:{listing.hexdigest()[:16]}"

    def probabilities(self, img: np.ndarray, key: PriorKey = None) -> np.ndarray:
        path = self._path(img, key)
        try:
            maps = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise UserError(f"{path}: unreadable probability map ({exc})") from None
        return validate_probabilities(maps, img.shape[:2], self.num_classes, path)


def validate_probabilities(maps: np.ndarray, hw: tuple[int, int], num_classes: int, path) -> np.ndarray:
    """Check a user probability map and return it as HxWxK float32 at the image size `hw`."""
    maps = np.asarray(maps)
    if maps.ndim != 3 or num_classes not in (maps.shape[0], maps.shape[2]):
        raise UserError(f"{path}: expected HxWx{num_classes} or {num_classes}xHxW probabilities, "
                        f"got shape {maps.shape}")
    if maps.shape[2] != num_classes:
        maps = maps.transpose(1, 2, 0)
    maps = maps.astype(np.float64)
    if not np.all(np.isfinite(maps)) or maps.min() < 0:
        raise UserError(f"{path}: probabilities must be finite and non-negative")
    sums = maps.sum(axis=2)
    if np.abs(sums - 1.0).max() > 1e-3:
        raise UserError(f"{path}: class probabilities must sum to 1 per pixel "
                        f"(found sums in [{sums.min():.3f}, {sums.max():.3f}])")
    if maps.shape[:2] != tuple(hw):
        # Bilinear resampling keeps each pixel a convex combination, so rows still sum to 1.
        zoom = (hw[0] / maps.shape[0], hw[1] / maps.shape[1], 1)
        maps = ndimage.zoom(maps, zoom, order=1, mode="nearest", grid_mode=True)
        maps = np.clip(maps, 0, None)
        maps /= maps.sum(axis=2, keepdims=True)
    return maps.astype(np.float32)


def prior_from_spec(spec: str | None = None) -> SegmentationPrior:
    """"kmeans" (default, also for None/"") or "folder:<path>"; anything else is a UserError."""
    spec = (spec if spec is not None else os.environ.get("SRBENCH_SEG_PRIOR", "")).strip()
    if spec in ("", "kmeans"):
        return ClusterPrior()
    if spec.startswith("folder:"):
        return FolderPrior(spec[len("folder:"):])
    raise UserError(f"unknown segmentation prior '{spec}' (use 'kmeans' or 'folder:<path>')")
