"""Evaluating one work item: its SR output (from the cache or the method) and its metric values (from
the cache or computed), stored back into the cache and the run folder."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import matlab, results_cache
from .atomic import atomic_write
from .degradations import degrade, pixels_hash
from .errors import SrbenchError, UserError
from .imageio import read_image, write_png_atomic
from .metrics import EvalContext, EvalImage, Metric
from .methods import SRMethod, SROutput
from .plan import Plan, WorkItem, degradation_key, method_key, metric_key, one_line


@dataclass
class ItemResult:
    """What an executor returns for an item: its metric values, or the one-line error that stopped it."""

    index: int
    values: dict[str, float] | None = None
    error: str | None = None


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


def _sr_output(method: SRMethod, mkey: str, hr: np.ndarray, hr_sha: str, scale: int,
               config, label: str) -> tuple[SROutput, str]:
    sr_key = results_cache.make_key("sr", mkey, hr_sha, scale, degradation_key(config.degradation))
    if config.use_cache:
        pixels = results_cache.load_sr(sr_key)
        # The native Y is written before the RGB, so with the RGB present a missing Y file means the method
        # has none; a Y file that exists but cannot be read means a damaged cache: recompute both.
        has_native = results_cache.sr_path(sr_key + ".y").is_file()
        native = results_cache.load_sr(sr_key + ".y") if has_native else None
        if pixels is not None and has_native == (native is not None):
            return SROutput(pixels=pixels, native_y=None if native is None
                            else native[:, :, 0].astype(np.float64)), sr_key
    lr = degrade(config.degradation, hr, scale, use_cache=config.use_cache)
    sr = method.super_resolve(lr, scale, image_name=Path(label).stem)
    sr = _validate_sr(sr, (lr.shape[0] * scale, lr.shape[1] * scale), label)
    if config.use_cache:
        if sr.native_y is not None:
            results_cache.store_sr(sr_key + ".y", matlab.to_uint8(sr.native_y))
        results_cache.store_sr(sr_key, sr.pixels)  # the RGB last: its presence marks the pair complete
    return sr, sr_key


def _sync_sr_copy(sr_key: str, dest: Path) -> bool:
    """Make the run folder's SR image a copy of the cached one; False when the cache has none.

    An SR image already in the run folder is kept only if it is byte-identical to the cached output, so
    a run folder reused with other weights never keeps a stale image next to fresh numbers."""
    cached = results_cache.sr_path(sr_key)
    if not cached.is_file():
        return False
    data = cached.read_bytes()
    if dest.is_file() and dest.read_bytes() == data:
        return True
    if results_cache.load_sr(sr_key) is None:  # unreadable cache entry: recompute instead of copying it
        return False
    atomic_write(dest, data)
    return True


def evaluate_item(method: SRMethod, identity: str, hr: np.ndarray, hr_sha: str, scale: int,
                  metrics: list[Metric], ctx: EvalContext, config, label: str,
                  sr_out_path: Path | None) -> dict[str, float]:
    mkey = method_key(method, identity)
    record_key = results_cache.make_key("record", mkey, hr_sha, scale, degradation_key(config.degradation))
    record = (results_cache.load_record(record_key) if config.use_cache else None) or {"metrics": {}}
    wanted = {m.name: metric_key(m, ctx) for m in metrics}
    missing = [m for m in metrics if wanted[m.name] not in record["metrics"]]
    need_sr = bool(missing) or not config.use_cache
    if not need_sr and sr_out_path is not None:
        sr_key = results_cache.make_key("sr", mkey, hr_sha, scale, degradation_key(config.degradation))
        need_sr = not _sync_sr_copy(sr_key, sr_out_path)
    if need_sr:
        sr, _ = _sr_output(method, mkey, hr, hr_sha, scale, config, label)
        if sr_out_path is not None:
            write_png_atomic(sr_out_path, sr.pixels)
        if missing:
            hr_crop = matlab.modcrop(hr, scale)
            sr_img = EvalImage(sr.pixels, native_y=sr.native_y, quantized_y=ctx.protocol.quantized_y)
            hr_img = EvalImage(hr_crop, quantized_y=ctx.protocol.quantized_y)
            for metric in missing:
                value = metric.compute(sr_img, hr_img if metric.needs_reference else None, ctx)
                record["metrics"][wanted[metric.name]] = float(value)
            if config.use_cache:
                results_cache.store_record(record_key, record)
    return {m.name: record["metrics"][wanted[m.name]] for m in metrics}


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
        values = evaluate_item(method, identity, hr, hr_sha, item.scale, plan.metrics, ctx, config, item.label,
                               item.sr_out)
    except Exception as exc:  # one bad item must not cost the rest of the run
        return ItemResult(item.index, error=one_line(exc))
    return ItemResult(item.index, values=values)
