"""Evaluating one work item: its SR output (from the cache or the method) and its metric values (from
the cache or computed), stored back into the cache and the run folder.

Integrity of what the cache gives back:
- An SR entry is the RGB PNG, the native-Y PNG when the method has one, and a meta file written last that
  records the pixel hashes of both (and whether a Y exists). An entry is used only when the meta is there
  and both images match it, so a lost `<key>.y.png` is recomputed, never read as "no native Y".
- A metrics record carries the hash of the SR pixels (RGB and native Y) it was computed from and a digest
  of its content (`results_cache.load_record`). When the SR output is at hand (computed or cached) and its
  hashes differ from the record's, the record is discarded and every metric recomputed.
- A full or failing cache disk never fails an item: the values and the run folder's SR copy are still
  produced, the cache is just not updated (one warning per process).
- One metric failing on one image fails only that metric (`metrics.base.evaluate_metrics`); failures are
  not cached, so they are retried on a rerun.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import matlab, results_cache
from .atomic import atomic_write
from .degradations import degrade, pixels_hash
from .errors import SrbenchError, UserError
from .imageio import read_image, write_png_atomic
from .metrics import EvalContext, EvalImage, Metric
from .metrics.base import evaluate_metrics
from .methods import SRMethod, SROutput
from .plan import Plan, WorkItem, degradation_key, method_key, metric_key, one_line, warn


@dataclass
class ItemResult:
    """What an executor returns for an item: its metric values, or the one-line error that stopped it."""

    index: int
    values: dict[str, float] | None = None
    error: str | None = None
    failures: dict[str, str] = field(default_factory=dict)  # metric name -> reason (that metric only)


def _validate_sr(sr: SROutput, expected: tuple[int, int], label: str) -> SROutput:
    """Check a method's output; returns it with `native_y` in the uint8 levels the cache stores, so a
    fresh and a cached SR give the same numbers."""
    pixels = np.asarray(sr.pixels)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 3):
        raise SrbenchError(f"{label}: SR output has shape {pixels.shape}, expected HxWx3 or HxWx1")
    if pixels.shape[:2] != expected:
        raise SrbenchError(f"{label}: SR output has size {pixels.shape[1]}x{pixels.shape[0]}, "
                           f"expected {expected[1]}x{expected[0]} (LR size x scale)")
    if pixels.dtype != np.uint8:
        if not np.all(np.isfinite(pixels)):
            raise SrbenchError(f"{label}: SR output contains NaN or Inf")
        raise SrbenchError(f"{label}: SR output has dtype {pixels.dtype}, expected uint8")
    native = sr.native_y
    if native is not None:
        native = np.asarray(native, dtype=np.float64)
        if not np.all(np.isfinite(native)):
            raise SrbenchError(f"{label}: SR output (native Y) contains NaN or Inf")
        if native.shape != expected:
            raise SrbenchError(f"{label}: SR native Y has shape {native.shape}, expected {expected}")
        native = matlab.to_uint8(native).astype(np.float64)
    return SROutput(pixels=np.ascontiguousarray(pixels), native_y=native)


_cache_write_warned = False


def _cache_write(what: str, write, *args) -> bool:
    """Run a cache write; a failure (disk full, read-only cache) is a warning, never the item's failure."""
    global _cache_write_warned
    try:
        write(*args)
        return True
    except OSError as exc:
        if not _cache_write_warned:
            _cache_write_warned = True
            warn(f"warning: cannot write the cache ({one_line(exc)}); results still go to the run folder, "
                 f"uncached")
        return False


def sr_hashes(sr: SROutput) -> dict:
    """The identity of an SR output as the record and the cache meta store it."""
    y = None if sr.native_y is None else pixels_hash(matlab.to_uint8(sr.native_y))
    return {"sr": pixels_hash(sr.pixels), "y": y}


def _cached_sr(sr_key: str) -> SROutput | None:
    """The cached SR entry when it is complete and matches its meta; None otherwise (recompute)."""
    meta = results_cache.load_sr_meta(sr_key)
    if meta is None:
        return None
    pixels = results_cache.load_sr(sr_key)
    if pixels is None or pixels_hash(pixels) != meta["sr"]:
        return None
    native = None
    if meta["y"] is not None:
        y = results_cache.load_sr(sr_key + ".y")
        if y is None or pixels_hash(np.ascontiguousarray(y[:, :, 0])) != meta["y"]:
            return None  # a lost or altered native Y: never read as "this method has none"
        native = y[:, :, 0].astype(np.float64)
    return SROutput(pixels=pixels, native_y=native)


def _sr_output(method: SRMethod, mkey: str, hr: np.ndarray, hr_sha: str, scale: int,
               config, label: str) -> tuple[SROutput, str]:
    sr_key = results_cache.make_key("sr", mkey, hr_sha, scale, degradation_key(config.degradation))
    if config.use_cache:
        cached = _cached_sr(sr_key)
        if cached is not None:
            return cached, sr_key
    lr = degrade(config.degradation, hr, scale, use_cache=config.use_cache)
    sr = method.super_resolve(lr, scale, image_name=Path(label).stem)
    sr = _validate_sr(sr, (lr.shape[0] * scale, lr.shape[1] * scale), label)
    if config.use_cache:
        ok = True
        if sr.native_y is not None:
            ok = _cache_write("sr", results_cache.store_sr, sr_key + ".y", matlab.to_uint8(sr.native_y))
        ok = ok and _cache_write("sr", results_cache.store_sr, sr_key, sr.pixels)
        if ok:  # the meta last: its presence marks the entry complete
            _cache_write("sr", results_cache.store_sr_meta, sr_key, sr_hashes(sr))
    return sr, sr_key


def _sync_sr_copy(sr_key: str, dest: Path, expected: dict | None) -> bool:
    """Make the run folder's SR image a copy of the cached one; False when the cache has no complete entry
    matching `expected` (the SR hashes of the record whose values are used).

    An SR image already in the run folder is kept only if it is byte-identical to the cached output, so
    a run folder reused with other weights never keeps a stale image next to fresh numbers."""
    meta = results_cache.load_sr_meta(sr_key)
    if meta is None or expected is None or meta != expected:
        return False
    cached = results_cache.sr_path(sr_key)
    if not cached.is_file() or (meta["y"] is not None and not results_cache.sr_path(sr_key + ".y").is_file()):
        return False
    data = cached.read_bytes()
    if dest.is_file() and dest.read_bytes() == data:
        return True
    if _cached_sr(sr_key) is None:  # unreadable or altered cache entry: recompute instead of copying it
        return False
    atomic_write(dest, data)
    return True


def evaluate_item(method: SRMethod, identity: str, hr: np.ndarray, hr_sha: str, scale: int,
                  metrics: list[Metric], ctx: EvalContext, config, label: str,
                  sr_out_path: Path | None) -> tuple[dict[str, float], dict[str, str]]:
    """(values, failures) of one item: metric name -> value for the metrics that gave one, metric name ->
    one-line reason for those that failed on this image."""
    mkey = method_key(method, identity)
    record_key = results_cache.make_key("record", mkey, hr_sha, scale, degradation_key(config.degradation))
    sr_key = results_cache.make_key("sr", mkey, hr_sha, scale, degradation_key(config.degradation))
    record = (results_cache.load_record(record_key) if config.use_cache else None) or {"metrics": {}}
    wanted = {m.name: metric_key(m, ctx) for m in metrics}
    missing = [m for m in metrics if wanted[m.name] not in record["metrics"]]
    need_sr = bool(missing) or not config.use_cache
    if not need_sr and sr_out_path is not None:
        need_sr = not _sync_sr_copy(sr_key, sr_out_path, record.get("sr"))
    failures: dict[str, str] = {}
    if need_sr:
        sr, _ = _sr_output(method, mkey, hr, hr_sha, scale, config, label)
        if sr_out_path is not None:
            write_png_atomic(sr_out_path, sr.pixels)
        hashes = sr_hashes(sr)
        if record.get("sr") != hashes:  # values from another SR output (or of unknown origin): recompute all
            record = {"metrics": {}, "sr": hashes}
            missing = list(metrics)
        if missing:
            hr_crop = matlab.modcrop(hr, scale)
            sr_img = EvalImage(sr.pixels, native_y=sr.native_y, quantized_y=ctx.protocol.quantized_y)
            hr_img = EvalImage(hr_crop, quantized_y=ctx.protocol.quantized_y)
            values, failures = evaluate_metrics(missing, sr_img, hr_img, ctx)
            for name, value in values.items():
                record["metrics"][wanted[name]] = value
            if config.use_cache and values:
                _cache_write("record", results_cache.store_record, record_key, record)
    values = {m.name: record["metrics"][wanted[m.name]] for m in metrics if wanted[m.name] in record["metrics"]}
    return values, failures


def read_hr(item: WorkItem, ctx: EvalContext) -> tuple[np.ndarray, str]:
    """The item's HR pixels and their hash (the pixels evaluated, whatever file or decoder they came from);
    an image too small for the scale and border crop is refused."""
    hr = read_image(item.path)
    hr_sha = pixels_hash(hr)
    min_side = min(hr.shape[:2]) // item.scale * item.scale
    if min_side < max(2 * ctx.crop_border + 1, item.scale):
        raise UserError(f"{item.path}: image {hr.shape[1]}x{hr.shape[0]} is too small for x{item.scale} "
                        f"with a {ctx.crop_border}-px border crop")
    return hr, hr_sha


def run_item(plan: Plan, item: WorkItem, config) -> ItemResult:
    """Evaluate one item in this process; any error becomes the item's error, the run goes on."""
    try:
        ctx = plan.contexts[item.scale]
        method, identity = plan.method(item)
        hr, hr_sha = read_hr(item, ctx)
        values, failures = evaluate_item(method, identity, hr, hr_sha, item.scale, plan.metrics, ctx, config,
                                         item.label, item.sr_out)
    except KeyboardInterrupt:
        raise  # Ctrl-C ends the run ("interrupted")
    except BaseException as exc:  # noqa: BLE001 - one bad item (even one calling sys.exit) must not end the run
        return ItemResult(item.index, error=one_line(exc))
    if not values and failures:  # every metric failed: the item failed (its reasons, one line)
        return ItemResult(item.index, error="; ".join(failures.values()), failures=failures)
    return ItemResult(item.index, values=values, failures=failures)
