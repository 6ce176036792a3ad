"""Content-addressed cache of per-image results and SR outputs.

A record is keyed by everything that determines it: the method's identity (name, scale, weights sha256),
the HR image's sha256, the scale, the degradation, and the metric set with versions and protocol. Records
are written atomically (temp file + rename), so a run killed at any point leaves only complete records and
a rerun computes exactly what is missing.

Integrity: a record is sealed with a digest of its content and holds the pixel hashes of the SR output its
values came from; an SR entry (RGB PNG, native-Y PNG) is completed by a meta file of their pixel hashes,
written last. Anything that does not verify is recomputed, never used (see `srbench.evaluate`).
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import shutil
from pathlib import Path

import numpy as np

from .assets import cache_root
from .atomic import atomic_write, sweep_partials

CACHE_FORMAT = "1"
CACHE_SUBDIRS = ("results", "sr", "lr")  # what `srbench cache clear` removes


def results_dir() -> Path:
    return cache_root() / "results"


def sr_dir() -> Path:
    return cache_root() / "sr"


def make_key(*parts: str) -> str:
    digest = hashlib.sha256(CACHE_FORMAT.encode())
    for part in parts:
        digest.update(b"\0")
        digest.update(str(part).encode("utf-8"))
    return digest.hexdigest()


def _record_path(key: str) -> Path:
    return results_dir() / key[:2] / f"{key}.json"


def record_digest(record: dict) -> str:
    """sha256 of a record's content (everything but the digest itself), canonical JSON."""
    body = {k: v for k, v in record.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, allow_nan=True).encode("utf-8")).hexdigest()


def load_record(key: str) -> dict | None:
    """The stored record, or None when there is none or it does not verify.

    A record is used only if it is well formed, its `digest` matches its content (a hand-edited or
    damaged value is recomputed, never used) and every value is finite (srbench never stores a
    non-finite value: `metrics.base.evaluate_metric` refuses them, so one in a record is damage)."""
    path = _record_path(key)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError):
        return None  # unreadable records are recomputed, never trusted
    if not isinstance(record, dict) or not isinstance(record.get("metrics"), dict):
        return None
    if record.get("digest") != record_digest(record):
        return None
    values = record["metrics"]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
               for v in values.values()):
        return None
    return record


def store_record(key: str, record: dict) -> None:
    sealed = dict(record, digest=record_digest(record))
    atomic_write(_record_path(key), json.dumps(sealed, sort_keys=True).encode("utf-8"))


def _meta_path(key: str) -> Path:
    return sr_dir() / key[:2] / f"{key}.json"


def load_sr_meta(key: str) -> dict | None:
    """What a cached SR entry holds: {"sr": pixels hash of the RGB, "y": pixels hash of the native Y or
    None}; written after both images, so its presence marks a complete entry. None: absent or damaged."""
    try:
        meta = json.loads(_meta_path(key).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError):
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("sr"), str) or not (
            meta.get("y") is None or isinstance(meta.get("y"), str)):
        return None
    return meta


def store_sr_meta(key: str, meta: dict) -> None:
    atomic_write(_meta_path(key), json.dumps(meta, sort_keys=True).encode("utf-8"))


def sr_path(key: str) -> Path:
    return sr_dir() / key[:2] / f"{key}.npy"


# SR and LR images are cached as .npy: lossless like PNG, but written and read in about a millisecond where
# a PNG costs tens (nobody views the cache; the run folder's SR images are PNGs, encoded once).

def encode_array(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(pixels), allow_pickle=False)
    return buf.getvalue()


def read_array(path: Path) -> np.ndarray | None:
    """A cached uint8 HxWxC image, or None when the file is missing, damaged or not such an image."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError):
        return None  # truncated or not a .npy file: recomputed, never trusted
    if not isinstance(arr, np.ndarray) or arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] not in (1, 3) \
            or 0 in arr.shape:
        return None
    return arr


def load_sr(key: str) -> np.ndarray | None:
    return read_array(sr_path(key))


def store_sr(key: str, pixels: np.ndarray) -> Path:
    path = sr_path(key)
    atomic_write(path, encode_array(pixels))
    return path


def lr_path(degradation_key: str, scale: int, hr_sha: str) -> Path:
    return cache_root() / "lr" / degradation_key / f"x{scale}" / f"{hr_sha}.npy"


def load_lr(degradation_key: str, scale: int, hr_sha: str) -> np.ndarray | None:
    return read_array(lr_path(degradation_key, scale, hr_sha))


def store_lr(degradation_key: str, scale: int, hr_sha: str, pixels: np.ndarray) -> None:
    atomic_write(lr_path(degradation_key, scale, hr_sha), encode_array(pixels))


def sweep() -> list[Path]:
    """Remove temp files that killed runs left in the cache (see `srbench.atomic`)."""
    removed = []
    for sub in CACHE_SUBDIRS:
        removed += sweep_partials(cache_root() / sub)
    return removed


def clear_cache() -> list[Path]:
    """Remove cached results, SR outputs and LR images; return what was removed."""
    removed = []
    for sub in CACHE_SUBDIRS:
        path = cache_root() / sub
        if path.exists():
            shutil.rmtree(path)
            removed.append(path)
    return removed
