"""CMP Facades: srbench's fixed train/test split of the base set, and the 256x256 test images `srbench run`
evaluates (built from the original files, since the data ships as CMP's JPEG photos + PNG label maps).

The split and the checksums live in `datasets/Facades.yaml`:
* `split.train` / `split.test`: the image stems (sorted by name, the first 200 train, the last 100 test; a
  contiguous rule, easy to restate and to check);
* `source_files`: sha256 of every original photo and label map (`<data-root>/Facades/base/<stem>.jpg|png`);
* `checksums`: the evaluated HR images, i.e. each test photo resized to 256x256 with MATLAB bicubic (as the
  Stage-GAN paper and pix2pix sample Facades; aspect ratio not kept), with the usual sha256/pixels fields.

`derived_hr` builds `<cache>/datasets/Facades/HR/<stem>.png` from a CMP copy under a data root when no
prepared `Facades/HR` folder exists; `srbench.datasets` then verifies it like any other dataset.
"""
from __future__ import annotations

import os
import shutil
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from .errors import ChecksumError, UserError

NAME = "Facades"
SIZE = 256                      # the paper's (and pix2pix's) image side
BASE = "base"                   # the CMP archive's folder of the base set
MANIFEST = Path(__file__).resolve().parents[1] / "datasets" / f"{NAME}.yaml"


@lru_cache(maxsize=None)
def _manifest() -> dict:
    try:
        return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"{MANIFEST}: cannot read the Facades manifest ({exc})") from None


def split(which: str) -> list[str]:
    """The image stems of split `which` ('train' or 'test'), as the manifest lists them."""
    try:
        return list(_manifest()["split"][which])
    except (KeyError, TypeError):
        raise UserError(f"{MANIFEST}: no '{which}' split recorded") from None


def source_sha256(stem: str) -> dict[str, str] | None:
    """{'photo': sha256, 'label': sha256} of an original CMP pair, None for a stem not in the manifest."""
    return (_manifest().get("source_files") or {}).get(stem)


def check_source(path: Path, stem: str, kind: str) -> None:
    """ChecksumError naming `path` unless its bytes are the recorded original (`kind` 'photo' or 'label')."""
    from .assets import sha256_file

    expected = (source_sha256(stem) or {}).get(kind)
    if expected is None:
        raise UserError(f"{path}: '{stem}' is not an image of the CMP Facades base set recorded in {MANIFEST.name}")
    if sha256_file(path) != expected:
        raise ChecksumError(f"{path}: checksum mismatch for the {kind} of '{stem}' ({MANIFEST.name} records "
                            f"{expected[:12]}...)")


def resize_photo(img: np.ndarray) -> np.ndarray:
    """A photo as evaluated and trained on: SIZE x SIZE, MATLAB bicubic on uint8 (antialiased when shrinking)."""
    from . import matlab

    if img.shape[:2] == (SIZE, SIZE):
        return img
    return matlab.imresize(img, output_shape=(SIZE, SIZE))


def read_photo(path: Path) -> np.ndarray:
    from .imageio import read_image

    return read_image(path)


def cmp_folder(root: Path) -> Path | None:
    """`<root>/Facades/base` when it holds the CMP originals (photo `cmp_b0001.jpg` present)."""
    folder = Path(root) / NAME / BASE
    return folder if folder.is_dir() and any(folder.glob("cmp_b*.jpg")) else None


def build_test_hr(base: Path, dest: Path) -> None:
    """Write the test split's SIZE x SIZE photos into `dest` (a new folder), originals verified first."""
    from .atomic import atomic_write
    from .imageio import encode_png

    dest.mkdir(parents=True)
    for stem in split("test"):
        photo = base / f"{stem}.jpg"
        if not photo.is_file():
            raise UserError(f"{photo}: test photo '{stem}' of the Facades split is missing")
        check_source(photo, stem, "photo")
        atomic_write(dest / f"{stem}.png", encode_png(resize_photo(read_photo(photo))))


def derived_hr(roots: list[Path]) -> Path | None:
    """The cache's Facades/HR built from the first data root holding the CMP originals, None if none does.
    Built in a temporary folder and renamed into place, so a killed run leaves no half-built dataset."""
    from .assets import cache_root
    from .download import temp_dir_beside

    base = next((b for b in (cmp_folder(r) for r in roots) if b is not None), None)
    if base is None:
        return None
    dest = cache_root() / "datasets" / NAME
    if (dest / "HR").is_dir():
        return dest / "HR"
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = temp_dir_beside(dest)
    try:
        build_test_hr(base, work / "HR")
        if not (dest / "HR").is_dir():  # else another process built it meanwhile: keep theirs
            os.replace(work, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest / "HR"
