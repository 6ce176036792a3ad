"""CMP Facades photo + label pairs for Stage-GAN, read from `<data_root>/Facades/` when present.

Layouts understood (the paper uses 400 training and 100 validation images, pix2pix's split):
* pix2pix: `<root>/<split>/*.jpg|png`, each picture the photo (left half) beside its label map (right half);
* CMP original: `<root>/<split>/` (or `<root>/` itself) holding `cmp_*.jpg` photos and same-stem `cmp_*.png`
  palette label maps (converted to RGB with their own palette). When the folder is the CMP base set recorded in
  `datasets/Facades.yaml` (srbench.facades), only the manifest's split is used (train: cmp_b0001-cmp_b0200,
  so the 100 test images `srbench run --datasets Facades` evaluates are never trained on), each file checked
  against its recorded sha256.
Every photo and label map is resized to 256x256 as in the paper (MATLAB bicubic for photos, nearest
neighbour for labels, whose colours are class codes).

    srbench train stage-gan --data DIR/Facades --option scale=4 --iters N --out RUN [--resume]

trains the `stage-gan` recipe on them with the labels as ground-truth semantic maps (the recipe's
`make_sampler` picks `FacadesSampler` for a folder named Facades, or a folder holding one).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from srbench import facades
from srbench.errors import UserError

SIZE = facades.SIZE
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def as_facades_folder(folder: str | os.PathLike) -> Path | None:
    """`folder` itself when it is named Facades (any case), its Facades subfolder when it has one, else None."""
    path = Path(folder).expanduser()
    if path.name.lower() == "facades" and path.is_dir():
        return path
    for name in ("Facades", "facades"):
        if (path / name).is_dir():
            return path / name
    return None


def _split_dir(root: Path, split: str) -> Path:
    aliases = {"train": ("train", "base"), "val": ("val", "validation", "test", "extended", "base")}
    for name in aliases.get(split, (split,)):
        if (root / name).is_dir():
            return root / name
    return root


def find_pairs(root: Path, split: str = "train") -> list[tuple[Path, Path | None]]:
    """(photo file, label file) pairs; label None means a pix2pix side-by-side picture."""
    folder = _split_dir(Path(root), split)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES and p.is_file())
    stems = {p.stem: p for p in files if p.suffix.lower() == ".png"}
    photos = [p for p in files if p.suffix.lower() in (".jpg", ".jpeg")]
    if photos and all(p.stem in stems for p in photos):
        pairs = [(p, stems[p.stem]) for p in photos]
        if all(facades.source_sha256(p.stem) for p, _ in pairs):
            return recorded_split(folder, pairs, split)
        return pairs
    pairs = [(p, None) for p in files]
    if not pairs:
        raise UserError(f"{folder}: no Facades images found")
    return pairs


def recorded_split(folder: Path, pairs, split: str) -> list[tuple[Path, Path]]:
    """The pairs of the manifest's split `split` ('train'; 'val'/'test' = the test split), files verified."""
    wanted = facades.split("train" if split == "train" else "test")
    have = {photo.stem: (photo, label) for photo, label in pairs}
    missing = [s for s in wanted if s not in have]
    if missing:
        raise UserError(f"{folder}: {len(missing)} image(s) of the Facades {split} split missing "
                        f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})")
    for stem in wanted:
        facades.check_source(have[stem][0], stem, "photo")
        facades.check_source(have[stem][1], stem, "label")
    return [have[s] for s in wanted]


def _read_rgb(path: Path) -> Image.Image:
    try:
        with Image.open(path) as im:
            return im.convert("RGB")
    except OSError as exc:
        raise UserError(f"{path}: unreadable image ({exc})") from None


def load_pair(photo: Path, label: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """-> (photo, label picture), both 256x256x3 uint8."""
    if label is None:
        both = np.asarray(_read_rgb(photo))
        if both.shape[1] != 2 * both.shape[0]:
            raise UserError(f"{photo}: expected a pix2pix pair picture twice as wide as high, got {both.shape[:2]}")
        half = both.shape[1] // 2
        img, lab = both[:, :half], both[:, half:]
    else:
        img, lab = np.asarray(_read_rgb(photo)), np.asarray(_read_rgb(label))
    img = facades.resize_photo(img)   # the same 256x256 photo `srbench run --datasets Facades` evaluates
    if lab.shape[:2] != (SIZE, SIZE):
        lab = np.asarray(Image.fromarray(lab).resize((SIZE, SIZE), Image.NEAREST))
    return np.ascontiguousarray(img), np.ascontiguousarray(lab)


class FacadesSampler:
    """Batches {'lr', 'hr', 'sem'} of whole 256x256 Facades images (random horizontal flips)."""

    def __init__(self, root: Path, scale: int, split: str = "train", seed: int = 0, batch_size: int = 1,
                 degradation: str = "bicubic"):
        from srbench.degradations import degrade

        self.pairs = []   # (LR, HR, label picture) per image
        for photo, label in find_pairs(root, split):
            hr, sem = load_pair(photo, label)
            self.pairs.append((degrade(degradation, hr, scale), hr, sem))
        self.skipped: list[str] = []   # every Facades image is used (all are resized to 256x256)
        self.seed, self.batch_size = seed, batch_size

    def batch(self, step: int, rank: int = 0) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, step, rank])
        picks = [self.pairs[rng.integers(len(self.pairs))] for _ in range(self.batch_size)]
        flip = bool(rng.integers(2))
        to_t = lambda arrs: torch.from_numpy(np.ascontiguousarray(  # noqa: E731
            np.stack([a[:, ::-1] if flip else a for a in arrs]).transpose(0, 3, 1, 2))).float() / 255.0
        return {"lr": to_t([p[0] for p in picks]), "hr": to_t([p[1] for p in picks]),
                "sem": to_t([p[2] for p in picks])}
