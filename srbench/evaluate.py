"""Evaluating one work item, in three steps so that the middle one can run anywhere:

1. `prepare_item` (the client, which owns the cache and the run folder): read the HR image, look up the
   cached record, SR and LR; the item is done if nothing is missing, else it becomes a `Task` that carries
   every input with it (no shared filesystem needed).
2. `compute_task` (in this process or a worker): the LR, the SR output, the missing metric values, and the
   run folder's PNG bytes, all from the task alone; it writes no file.
3. `commit_item` (the client): store what was computed in the cache (atomically, the SR before the record)
   and the SR image in the run folder, and return the item's values.

Every executor runs exactly these functions, so their tables are the serial executor's byte for byte.

Integrity of what the cache gives back (issue 14):
- An SR entry is the RGB array, the native-Y array when the method has one, and a meta file written last
  that records the pixel hashes of both (and so whether a Y exists). An entry is used only when the meta is
  there and both arrays match it: a lost `<key>.y.npy` is recomputed, never read as "no native Y".
- A metrics record carries the hashes of the SR output its values came from ("sr") and a digest of its
  content (`results_cache.load_record` verifies it and that every value is finite). When the SR output at
  hand (cached or recomputed) has other hashes, the record's values are discarded and all recomputed.
- A full or failing cache disk never fails an item: values and the run folder's SR image are still
  produced, the cache is just not updated (one warning per process).
- One metric failing on one image fails only that metric (`metrics.base.evaluate_metrics`); such failures
  are not cached, so a rerun retries them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import matlab, protocols, results_cache
from .atomic import atomic_write
from .degradations import pixels_hash
from .errors import SrbenchError, UserError
from .imageio import encode_png, read_image
from .metrics import EvalContext, EvalImage, Metric
from .metrics.base import evaluate_metrics
from .methods import SRMethod, SROutput
from .plan import Plan, WorkItem, degradation_key, method_key, metric_key, one_line, warn


@dataclass
class ItemResult:
    """What an executor returns for an item: its metric values, or the one-line error that stopped it, and
    the metrics that failed alone on it (name -> one-line reason; their values are absent)."""

    index: int
    values: dict[str, float] | None = None
    error: str | None = None
    failures: dict[str, str] = field(default_factory=dict)


@dataclass
class Task:
    """The inputs of the work an item still needs; everything a worker uses travels in it."""

    label: str  # the HR file, named in errors
    scale: int
    degradation: str  # registered degradation name
    method: SRMethod
    identity: str  # the method's identity on the client: a worker whose weights differ must refuse
    metrics: list[Metric]  # the missing ones
    ctx: EvalContext
    hr: np.ndarray
    lr: np.ndarray | None = None  # from the LR cache
    sr: SROutput | None = None  # from the SR cache
    want_png: bool = False  # the run folder needs the SR image encoded
    expected_sr: dict | None = None  # the SR hashes of the record's values (None: no values kept)
    all_metrics: list[Metric] = field(default_factory=list)  # to recompute when the SR is not the record's
    metric_keys: dict[str, str] = field(default_factory=dict)  # name -> the client's metric key (model digest)


@dataclass
class Outcome:
    """What `compute_task` made: metric values by metric key, and the images the client should store."""

    values: dict[str, float] = field(default_factory=dict)  # by metric name (the client keys them)
    failures: dict[str, str] = field(default_factory=dict)  # metric name -> reason (that metric only)
    sr_hashes: dict | None = None  # the hashes of the SR output the values came from
    reset: bool = False  # the record's earlier values belong to another SR output: drop them
    lr: np.ndarray | None = None  # computed LR (None: it came with the task)
    sr: SROutput | None = None  # computed SR (None: it came with the task)
    png: bytes | None = None
    error: str | None = None


@dataclass
class Pending:
    """The client's state of an item between prepare and commit."""

    record_key: str
    sr_key: str
    lr_key: tuple[str, int, str]
    record: dict
    wanted: dict[str, str]  # metric name -> metric key
    sr_out: Path | None
    use_cache: bool


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


def _cache_write(write, *args) -> bool:
    """Run a cache write; a failure (disk full, read-only cache) is one warning, never the item's failure."""
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
    """The identity of an SR output as records and the SR cache meta store it."""
    y = None if sr.native_y is None else pixels_hash(matlab.to_uint8(sr.native_y)[:, :, None])
    return {"sr": pixels_hash(np.ascontiguousarray(sr.pixels)), "y": y}


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
        if y is None or pixels_hash(y) != meta["y"]:
            return None  # a lost or altered native Y: never read as "this method has none"
        native = y[:, :, 0].astype(np.float64)
    return SROutput(pixels=pixels, native_y=native)


def _run_copy_is(dest: Path, pixels: np.ndarray) -> bool:
    """Whether the run folder's SR image holds exactly these pixels (a stale or damaged one does not)."""
    if not dest.is_file():
        return False
    try:
        return np.array_equal(read_image(dest), pixels)
    except UserError:
        return False


def prepare(method: SRMethod, identity: str, hr: np.ndarray, hr_sha: str, scale: int, metrics: list[Metric],
            ctx: EvalContext, config, label: str, sr_out_path: Path | None) -> tuple[Pending, Task | None]:
    """The item's cached state, and the task still to run (None: all is in the cache and the run folder)."""
    mkey = method_key(method, identity)
    deg = degradation_key(config.degradation, config.protocol)
    use_cache = config.use_cache
    record_key = results_cache.make_key("record", mkey, hr_sha, scale, deg)
    sr_key = results_cache.make_key("sr", mkey, hr_sha, scale, deg)
    record = (results_cache.load_record(record_key) if use_cache else None) or {"metrics": {}}
    wanted = {m.name: metric_key(m, ctx) for m in metrics}
    missing = [m for m in metrics if wanted[m.name] not in record["metrics"]]
    pending = Pending(record_key, sr_key, (deg, scale, hr_sha), record, wanted, sr_out_path, use_cache)
    # the cached SR is read only when metrics need it or the run folder's copy must be checked against it
    sr = _cached_sr(sr_key) if use_cache and (missing or sr_out_path is not None) else None
    if sr is not None and record.get("sr") != sr_hashes(sr):
        # values of another SR output (or of unknown origin): recompute them all from this one
        record = pending.record = {"metrics": {}}
        missing = list(metrics)
    want_png = sr_out_path is not None and (sr is None or not _run_copy_is(sr_out_path, sr.pixels))
    if not missing and not want_png:
        return pending, None
    lr = results_cache.load_lr(deg, scale, hr_sha) if use_cache and sr is None else None
    expected = record.get("sr") if record["metrics"] else None
    return pending, Task(label=label, scale=scale, degradation=config.degradation, method=method,
                         identity=identity, metrics=missing, ctx=ctx, hr=hr, lr=lr, sr=sr, want_png=want_png,
                         expected_sr=expected, all_metrics=list(metrics), metric_keys=wanted)


def compute_task(task: Task) -> Outcome:
    """The task's missing pieces, from its inputs alone (this may run in a worker process or on another
    machine: it reads and writes no file)."""
    out = Outcome()
    sr = task.sr
    if sr is None:
        if task.method.identity(task.scale) != task.identity:
            raise SrbenchError(f"{task.label}: the method's weights here ({task.method.identity(task.scale)}) "
                               f"differ from the client's ({task.identity})")
        lr, protocol = task.lr, task.ctx.protocol
        if lr is None:
            lr = protocols.make_lr(protocol, task.degradation, task.hr, task.scale)
            if lr.dtype == np.uint8:  # the cache keeps uint8 LR only; srcnn's double LR is one resize away
                out.lr = lr
        sr = protocols.super_resolve(protocol, task.method, lr, task.scale, image_name=Path(task.label).stem)
        sr = out.sr = _validate_sr(sr, (lr.shape[0] * task.scale, lr.shape[1] * task.scale), task.label)
    if task.want_png:
        out.png = encode_png(sr.pixels)
    out.sr_hashes = sr_hashes(sr)
    metrics = task.metrics
    if task.expected_sr is not None and out.sr_hashes != task.expected_sr:
        out.reset, metrics = True, task.all_metrics  # the record's values came from another SR output
    metrics, refused = _same_metrics(metrics, task.ctx, task.metric_keys)
    if metrics:
        ctx = task.ctx
        hr_crop = matlab.modcrop(task.hr, task.scale)
        sr_img = EvalImage(sr.pixels, native_y=sr.native_y, quantized_y=ctx.protocol.quantized_y)
        hr_img = EvalImage(hr_crop, quantized_y=ctx.protocol.quantized_y)
        out.values, out.failures = evaluate_metrics(metrics, sr_img, hr_img, ctx)
    out.failures.update(refused)
    return out


def _same_metrics(metrics: list[Metric], ctx: EvalContext,
                  client_keys: dict[str, str]) -> tuple[list[Metric], dict[str, str]]:
    """The metrics whose key here (model digests included: a worker resolves its own model files) is the
    client's, and a one-line failure for each other one: its values would be cached under the wrong key."""
    same, refused = [], {}
    for metric in metrics:
        try:
            here = metric_key(metric, ctx)
        except Exception as exc:  # e.g. Unavailable: the model file is not on this worker
            refused[metric.name] = one_line(exc)
            continue
        expected = client_keys.get(metric.name, here)
        if here != expected:
            refused[metric.name] = (f"{metric.name}: the model here ({here.split('|')[0]}) differs from the "
                                    f"client's ({expected.split('|')[0]})")
            continue
        same.append(metric)
    return same, refused


def commit(pending: Pending, outcome: Outcome | None, metrics: list[Metric]) -> tuple[dict[str, float], dict[str, str]]:
    """Store a task's outcome (cache first, then the run folder) and return the item's (values, failures):
    metric name -> value for the metrics that have one, metric name -> reason for those that failed alone."""
    failures: dict[str, str] = {}
    if outcome is not None:
        failures = dict(outcome.failures)
        if pending.use_cache:
            if outcome.lr is not None:
                _cache_write(results_cache.store_lr, *pending.lr_key, outcome.lr)
            if outcome.sr is not None:
                ok = True
                if outcome.sr.native_y is not None:
                    ok = _cache_write(results_cache.store_sr, pending.sr_key + ".y",
                                      matlab.to_uint8(outcome.sr.native_y)[:, :, None])
                ok = ok and _cache_write(results_cache.store_sr, pending.sr_key, outcome.sr.pixels)
                if ok:  # the meta last: its presence marks the entry complete
                    _cache_write(results_cache.store_sr_meta, pending.sr_key, sr_hashes(outcome.sr))
        if outcome.png is not None:
            atomic_write(pending.sr_out, outcome.png)
        if outcome.reset:
            pending.record = {"metrics": {}}
        if outcome.values:
            pending.record["metrics"].update({pending.wanted[n]: v for n, v in outcome.values.items()})
            pending.record["sr"] = outcome.sr_hashes
            if pending.use_cache:
                _cache_write(results_cache.store_record, pending.record_key, pending.record)
    record = pending.record["metrics"]
    values = {m.name: record[pending.wanted[m.name]] for m in metrics if pending.wanted[m.name] in record}
    return values, failures


def item_result(index: int, committed: tuple[dict[str, float], dict[str, str]]) -> ItemResult:
    """The ItemResult of a committed item; when every metric failed, the item failed (their reasons)."""
    values, failures = committed
    if failures and not values:
        return ItemResult(index, error="; ".join(failures.values()), failures=failures)
    return ItemResult(index, values=values, failures=failures)


def evaluate_item(method: SRMethod, identity: str, hr: np.ndarray, hr_sha: str, scale: int,
                  metrics: list[Metric], ctx: EvalContext, config, label: str,
                  sr_out_path: Path | None) -> tuple[dict[str, float], dict[str, str]]:
    """One item in this process: prepare, compute, commit; returns (values, failures)."""
    pending, task = prepare(method, identity, hr, hr_sha, scale, metrics, ctx, config, label, sr_out_path)
    return commit(pending, compute_task(task) if task is not None else None, metrics)


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


def prepare_item(plan: Plan, item: WorkItem, config) -> tuple[Pending, Task | None]:
    ctx = plan.contexts[item.scale]
    method, identity = plan.method(item)
    hr, hr_sha = read_hr(item, ctx)
    return prepare(method, identity, hr, hr_sha, item.scale, plan.metrics, ctx, config, item.label, item.sr_out)


def run_item(plan: Plan, item: WorkItem, config) -> ItemResult:
    """Evaluate one item in this process; any error becomes the item's error, the run goes on."""
    try:
        pending, task = prepare_item(plan, item, config)
        committed = commit(pending, compute_task(task) if task is not None else None, plan.metrics)
    except KeyboardInterrupt:
        raise  # Ctrl-C ends the run ("interrupted")
    except BaseException as exc:  # noqa: BLE001 - one bad item (even one calling sys.exit) must not end the run
        return ItemResult(item.index, error=one_line(exc))
    return item_result(item.index, committed)
