"""Training pairs from folders of HR images.

Every HR image is modcropped and degraded once, as a whole image, with the registered degradation
(`srbench.degradations.degrade`), the way MATLAB-made benchmark pairs are produced; patches are then cut at
aligned positions from the HR image and its LR image. Cropping the LR of the whole image (instead of
degrading each HR crop) keeps the LR pixels identical to what a test image would get, border effects included.

Which patches a step sees is a pure function of (seed, step, rank): resuming at step k replays exactly the
batches an uninterrupted run would have seen, with no sampler state to save.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .. import matlab
from ..errors import UserError
from ..imageio import SUPPORTED_SUFFIXES, read_image


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files in `folder`, or in `folder/HR` when that exists (the shared datasets' layout)."""
    root = Path(folder).expanduser()
    if (root / "HR").is_dir():
        root = root / "HR"
    if not root.is_dir():
        raise UserError(f"{folder}: training data folder not found")
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES and p.is_file())
    if not files:
        raise UserError(f"{root}: no images found (expected one of {', '.join(sorted(SUPPORTED_SUFFIXES))})")
    return files


def resolve_training_data(entry: str, data_root: str | os.PathLike | None = None) -> str:
    """A `--data` value as a folder: an existing path as it is, else a dataset name resolved like `srbench run`
    resolves `--datasets` (under --data-root / $SRBENCH_DATA, then the cache, then its manifest's download).
    The dataset's own folder is returned (its HR/ inside, or the layout a recipe reads, such as Facades')."""
    from ..datasets import DATASETS, check_dataset_name, data_roots, load_manifest, manifest_path, resolve_dataset

    path = Path(entry).expanduser()
    if path.exists() or os.sep in entry or not entry:
        return str(path)
    roots = data_roots(data_root)
    folder = load_manifest(manifest_path(entry)).folder if entry in DATASETS else entry
    for root in roots:
        candidate = root / folder
        if candidate.is_dir():
            if (candidate / "HR").is_dir() and entry in DATASETS:
                resolve_dataset(entry, data_root)   # verify the copy against the manifest's checksums
            return str(candidate)
    try:
        check_dataset_name(entry, data_root)
    except UserError:
        raise UserError(f"{entry}: training data folder not found, and no dataset of that name "
                        f"(looked in {', '.join(str(r) for r in roots)})") from None
    return str(resolve_dataset(entry, data_root).root)


class PairedPatchSampler:
    """Random aligned (LR, HR) patches with random flips and 90-degree rotations.

    hr_patch: HR patch side (a multiple of `scale`); batch_size: patches per step. Images smaller than the
    patch are skipped (and reported) rather than padded, so every patch holds real pixels.
    upsampled: also give 'lr_up', the whole LR image upsampled to HR size with MATLAB bicubic in floating
    point (what `SRMethod.super_resolve` feeds a pre-upsampling network), cropped like the HR patch.
    """

    def __init__(self, folders, scale: int, hr_patch: int, batch_size: int, degradation: str = "bicubic",
                 seed: int = 0, augment: bool = True, max_images: int | None = None, upsampled: bool = False):
        from ..degradations import degrade

        if hr_patch % scale:
            raise UserError(f"HR patch size {hr_patch} is not a multiple of the scale {scale}")
        self.scale, self.hr_patch, self.batch_size = scale, hr_patch, batch_size
        self.seed, self.augment = seed, augment
        self.pairs: list[tuple[np.ndarray, np.ndarray]] = []
        self.upsampled: list[np.ndarray] | None = [] if upsampled else None
        self.skipped: list[str] = []
        files = [f for folder in ([folders] if isinstance(folders, (str, os.PathLike)) else folders)
                 for f in list_images(folder)]
        for path in files[:max_images]:
            hr = matlab.modcrop(read_image(path), scale)
            if hr.shape[2] == 1:
                hr = np.repeat(hr, 3, axis=2)
            if min(hr.shape[:2]) < hr_patch:
                self.skipped.append(path.name)
                continue
            lr = degrade(degradation, hr, scale)
            self.pairs.append((hr, lr))
            if upsampled:
                up = matlab.imresize(lr.astype(np.float64) / 255.0, output_shape=hr.shape[:2])
                self.upsampled.append(up.astype(np.float32))
        if not self.pairs:
            raise UserError(f"no training image is at least {hr_patch}x{hr_patch} pixels in {folders}")

    def batch(self, step: int, rank: int = 0) -> dict[str, torch.Tensor]:
        """The batch of `step` for process `rank`: {'lr': Bx3xhxw, 'hr': Bx3xHxW} float32 in [0, 1]."""
        rng = np.random.default_rng([self.seed, step, rank])
        lr_p, s = self.hr_patch // self.scale, self.scale
        lrs, hrs, ups = [], [], []
        for _ in range(self.batch_size):
            index = int(rng.integers(len(self.pairs)))
            hr, lr = self.pairs[index]
            y = int(rng.integers(lr.shape[0] - lr_p + 1))
            x = int(rng.integers(lr.shape[1] - lr_p + 1))
            lr_c = lr[y:y + lr_p, x:x + lr_p]
            hr_c = hr[y * s:(y + lr_p) * s, x * s:(x + lr_p) * s]
            up_c = None if self.upsampled is None else self.upsampled[index][y * s:(y + lr_p) * s, x * s:(x + lr_p) * s]
            if self.augment:
                flip_h, flip_v, rot = rng.integers(2, size=3)
                lr_c, hr_c = (_augment(a, flip_h, flip_v, rot) for a in (lr_c, hr_c))
                up_c = None if up_c is None else _augment(up_c, flip_h, flip_v, rot)
            lrs.append(lr_c)
            hrs.append(hr_c)
            ups.append(up_c)
        batch = {"lr": _to_tensor(np.stack(lrs)), "hr": _to_tensor(np.stack(hrs))}
        if self.upsampled is not None:
            batch["lr_up"] = torch.from_numpy(np.ascontiguousarray(np.stack(ups).transpose(0, 3, 1, 2)))
        return batch


def _augment(a: np.ndarray, flip_h: int, flip_v: int, rot: int) -> np.ndarray:
    if flip_h:
        a = a[:, ::-1]
    if flip_v:
        a = a[::-1]
    if rot:
        a = a.transpose(1, 0, 2)
    return a


def _to_tensor(batch: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 3, 1, 2))).float().div_(255.0)
