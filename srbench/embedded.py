"""The embedded `default` dataset: natural colour photographs that ship inside scikit-image.

They are read from scikit-image's installed data folder (never through its pooch downloader), so
`srbench run` works offline on a fresh machine. Images larger than `MAX_SIDE` are centre-cropped to at most
`MAX_SIDE` x `MAX_SIDE` (deterministic: the crop starts at (size - MAX_SIDE) // 2), which keeps
`srbench run --methods all --scale 4` quick on a laptop CPU; no resampling is done, so the pixels are the
originals. They are written once as PNGs into `cache_root()/datasets/default/HR` (built in a temp folder and
renamed into place) with a generated `manifest.json` of their sha256; later runs verify the files against it
and rebuild the folder if it was damaged or built by another recipe.

`EMBEDDED_IMAGES` records the pixel sha256 of every image as built with scikit-image 0.26; a scikit-image
whose files decode differently (say another JPEG decoder for rocket.jpg) gets a warning, because its numbers
are then not comparable with results computed on the recorded pixels.
"""
from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np

from .assets import cache_root, sha256_file
from .atomic import atomic_write
from .datasets import DEFAULT, Dataset, DatasetImage, pixel_sha256
from .download import temp_dir_beside
from .errors import AssetError
from .imageio import encode_png, read_image

RECIPE = 1  # bump whenever the list, the crop or the encoding changes: cached copies are then rebuilt
MAX_SIDE = 512
DESCRIPTION = ("embedded: 5 natural colour photos shipped with scikit-image (centre-cropped to <= 512 px), "
               "works offline")

# (image name, file in skimage's data folder, pixel sha256 after the crop)
EMBEDDED_IMAGES = (
    ("astronaut", "astronaut.png", "dbc528a667f31ea105d2a07e4a8fbb94f5687c9a762f8ceadf5ea9e5287d8e14"),
    ("chelsea", "chelsea.png", "d096e7605a1f51260ee7706424d0a9c2328649848d8be26dfb82b8185efa2cf9"),
    ("coffee", "coffee.png", "5e93a92cbf2ceb63980fb70df390f8580324b983791d9919b03b17313e7bebaf"),
    ("motorcycle", "motorcycle_left.png", "4eb85d81f152ae19475f38183553feeb57e465c1036a4602e0d49bf3cc4a9c53"),
    ("rocket", "rocket.jpg", "7e5eac89cc20fd4cbc74c5c453381973398ade79135a1031d3114c50ac6dc490"),
)


def skimage_data_dir() -> Path:
    import skimage.data

    return Path(skimage.data.__file__).resolve().parent


def center_crop(arr: np.ndarray, max_side: int = MAX_SIDE) -> np.ndarray:
    h, w = arr.shape[:2]
    top, left = max(h - max_side, 0) // 2, max(w - max_side, 0) // 2
    return arr[top: top + min(h, max_side), left: left + min(w, max_side)]


def default_root() -> Path:
    return cache_root() / "datasets" / DEFAULT


def _load_source(file_name: str) -> np.ndarray:
    path = skimage_data_dir() / file_name
    if not path.is_file():
        raise AssetError(f"{path}: scikit-image data file missing (the embedded default dataset needs it; "
                         f"reinstall scikit-image>=0.21)")
    return center_crop(read_image(path))


def _build(dest: Path) -> None:
    """Write the PNGs and their manifest into a temp folder, then rename it to `dest`."""
    tmp = temp_dir_beside(dest)
    try:
        record = {}
        for name, file_name, expected in EMBEDDED_IMAGES:
            arr = _load_source(file_name)
            pixels = pixel_sha256(arr)
            if pixels != expected:
                warnings.warn(f"{skimage_data_dir() / file_name}: decoded pixels differ from the ones srbench "
                              f"recorded; results on '{DEFAULT}' are not comparable with published srbench runs")
            (tmp / "HR").mkdir(exist_ok=True)
            (tmp / "HR" / f"{name}.png").write_bytes(encode_png(arr))
            record[name] = {"sha256": sha256_file(tmp / "HR" / f"{name}.png"), "pixels": pixels}
        manifest = {"recipe": RECIPE, "max_side": MAX_SIDE, "source": str(skimage_data_dir()), "images": record}
        atomic_write(tmp / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True).encode())
        if dest.exists():  # stale or damaged: move it aside first, a rename cannot replace a full folder
            old = temp_dir_beside(dest)
            os.replace(dest, old / dest.name)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _cached_images(root: Path) -> list[DatasetImage] | None:
    """The cached images if the folder is complete, of this recipe and undamaged; else None."""
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    record = manifest.get("images", {}) if isinstance(manifest, dict) else {}
    if manifest.get("recipe") != RECIPE or sorted(record) != sorted(n for n, _, _ in EMBEDDED_IMAGES):
        return None
    images = []
    for name, _, _ in EMBEDDED_IMAGES:
        path = root / "HR" / f"{name}.png"
        if not path.is_file() or sha256_file(path) != record[name].get("sha256"):
            warnings.warn(f"{path}: damaged or missing, rebuilding the embedded default dataset")
            return None
        images.append(DatasetImage(name, path, record[name]["sha256"]))
    return images


def resolve_default() -> Dataset:
    root = default_root()
    images = _cached_images(root)
    if images is None:
        try:
            _build(root)
        except OSError as exc:
            if not (root / "manifest.json").is_file():  # a concurrent build may have won the rename
                raise AssetError(f"{root}: cannot write the embedded default dataset ({exc})") from None
        images = _cached_images(root)
        if images is None:
            raise AssetError(f"{root}: the embedded default dataset failed verification right after building")
    return Dataset(DEFAULT, root / "HR", images, "test", DESCRIPTION, True)
