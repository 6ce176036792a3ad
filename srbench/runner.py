"""The benchmark runner: methods x datasets x scales -> per-image and summary tables.

Work is cached per (method identity, HR image, scale, degradation) through `results_cache`, so a rerun
after a kill computes only what is missing and produces the same tables. A failure of one item is recorded
in `errors.csv` and on stderr and the run goes on; methods or metrics that cannot run here are reported as
skipped with their reason.
"""
from __future__ import annotations

import json
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__, matlab, results_cache
from .degradations import DEGRADATIONS, degrade, pixels_hash
from .errors import SrbenchError, Unavailable, UserError
from .atomic import atomic_write, sweep_partials
from .run_layout import sr_image_path
from .run_folder import manifest, remove_stale_outputs
from .imageio import read_image, write_png_atomic, write_text_atomic
from .metrics import EvalContext, EvalImage, Metric, load_builtin_metrics
from .methods import SRMethod, SROutput, discover_methods

# ma_pirm (not ma) so that Ma is computed once per image, shared with pi (both PIRM protocol: Y, 4-px shave)
DEFAULT_METRICS = ("psnr_y", "ssim_y", "rmse", "gsm", "niqe", "niqe_pirm", "ma_pirm", "pi")
SCALES = (2, 3, 4, 8)
KEY_COLUMNS = ["method", "dataset", "scale", "image"]
FAILED_PREFIX = "failed: "
MAX_MESSAGE = 400  # characters of an error message kept in errors.csv and on stderr


@dataclass
class RunConfig:
    methods: list[str]
    datasets: list[str]
    scales: list[int]
    out: str
    degradation: str = "bicubic"
    metrics: list[str] | None = None
    protocol: str = "matlab"
    crop_border: int | None = None
    data_root: str | None = None
    device: str = "cpu"
    tile: int | None = None
    arch: str | None = None
    use_cache: bool = True
    save_sr: bool = True
    progress: bool = True
    report: bool = True


@dataclass
class RunResult:
    out: Path
    per_image: pd.DataFrame
    summary: pd.DataFrame
    errors: list[dict] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0


def _warn(message: str) -> None:
    print(f"srbench: {message}", file=sys.stderr, flush=True)


def parse_scale(value: str) -> int:
    try:
        number = float(value)
    except ValueError:
        raise UserError(f"scale '{value}' is not a number (supported: {', '.join(map(str, SCALES))})") from None
    if not number.is_integer():
        raise UserError(f"scale '{value}' is not an integer (supported: {', '.join(map(str, SCALES))})")
    if int(number) not in SCALES:
        raise UserError(f"scale {int(number)} is not supported (supported: {', '.join(map(str, SCALES))})")
    return int(number)


# ------------------------------------------------------------------ selection

def select_methods(names: list[str], scales: list[int], config: RunConfig) -> list[tuple[str, SRMethod | None, str]]:
    """[(name, method or None, reason)] in a stable order; method None: the reason says why it is
    skipped (Unavailable) or, prefixed with FAILED_PREFIX, why its adapter failed to construct."""
    registry = discover_methods()
    if names == ["all"]:
        names = [n for n in registry.names()
                 if any(s in registry.factory(n).scales for s in scales)]
    for name in names:  # every name is checked before any network is built
        if not name.startswith("torch:"):
            registry.factory(name)
    selected = []
    for name in names:
        if name.startswith("torch:"):
            from .methods.generic import create_generic_method

            method = create_generic_method(name, config.arch, device=config.device, tile=config.tile)
            selected.append((name, method, ""))
            continue
        try:
            method = registry.create(name, device=config.device, tile=config.tile)
        except UserError:
            raise  # bad input (e.g. an unusable --device): the run must not start
        except Unavailable as exc:
            selected.append((name, None, str(exc)))
            continue
        except Exception as exc:  # a broken adapter fails alone; the other methods still run
            selected.append((name, None, FAILED_PREFIX + _one_line(exc)))
            continue
        selected.append((name, method, ""))
    return selected


def select_metrics(names: list[str] | None) -> tuple[list[Metric], dict[str, str]]:
    registry = load_builtin_metrics()
    explicit = names is not None
    names = list(names) if explicit else [n for n in DEFAULT_METRICS if n in registry]
    metrics, unavailable = [], {}
    for name in names:
        if name.startswith("pyiqa:"):
            from .metrics.pyiqa_bridge import create_pyiqa_metric

            metric = create_pyiqa_metric(name)
        else:
            metric = registry.create(name)
        try:
            metric.prepare()
        except Unavailable as exc:
            unavailable[name] = str(exc)
            continue
        metrics.append(metric)
    return metrics, unavailable


# ------------------------------------------------------------------ per item

def _metric_key(metric: Metric, ctx: EvalContext) -> str:
    return f"{metric.identity()}|{ctx.protocol.name}|crop{ctx.crop_border}"


def method_key(method: SRMethod, identity: str) -> str:
    """Everything about a method that changes its SR output: the identity (name, scale, weights sha256),
    the adapter's version, and tiling and device (tiles and GPU kernels change the last float bits, which
    can flip a uint8 rounding)."""
    version = getattr(method, "version", "1")
    overlap = getattr(method, "tile_overlap", None)
    device = getattr(getattr(method, "device", None), "type", "cpu")
    return f"{identity}|v{version}|tile{method.tile}/{overlap}|{device}"


def degradation_key(name: str) -> str:
    deg = DEGRADATIONS.create(name)
    return f"{deg.name}-v{deg.version}"


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
               config: RunConfig, label: str) -> tuple[SROutput, str]:
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
                  metrics: list[Metric], ctx: EvalContext, config: RunConfig, label: str,
                  sr_out_path: Path | None) -> dict[str, float]:
    mkey = method_key(method, identity)
    record_key = results_cache.make_key("record", mkey, hr_sha, scale, degradation_key(config.degradation))
    record = (results_cache.load_record(record_key) if config.use_cache else None) or {"metrics": {}}
    wanted = {m.name: _metric_key(m, ctx) for m in metrics}
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


# ------------------------------------------------------------------ run

def _versions() -> dict:
    import scipy
    import skimage
    import torch

    return {"srbench": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "scikit-image": skimage.__version__, "torch": torch.__version__,
            "pandas": pd.__version__}


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def validate_config(config: RunConfig) -> None:
    """Reject bad options before any work starts: one-line UserErrors naming the option."""
    from .protocols import get_protocol

    for option, values in (("--methods", config.methods), ("--datasets", config.datasets),
                           ("--scale", config.scales)):
        if not values:
            raise UserError(f"{option}: nothing given")
    if config.metrics is not None and not config.metrics:
        raise UserError("--metrics: nothing given")
    for scale in config.scales:
        if isinstance(scale, bool) or not isinstance(scale, int) or scale not in SCALES:
            raise UserError(f"scale {scale!r} is not supported (supported: {', '.join(map(str, SCALES))})")
    DEGRADATIONS.factory(config.degradation)  # unknown name -> did-you-mean
    get_protocol(config.protocol)
    _check_names(config)
    if config.crop_border is not None and config.crop_border < 0:
        raise UserError(f"--crop-border {config.crop_border}: must be 0 or more pixels")
    if config.tile is not None and config.tile < 8:
        raise UserError(f"--tile {config.tile}: must be at least 8 LR pixels")
    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: --out must be a folder, this is a file")


def _check_names(config: RunConfig) -> None:
    """Every method, dataset and metric name exists: checked before any slow work (checksums, downloads)."""
    from .datasets import check_dataset_name

    for name in config.datasets:
        check_dataset_name(name, config.data_root)
    methods = discover_methods()
    for name in config.methods:
        if name != "all" and not name.startswith("torch:"):
            methods.factory(name)
    if "all" in config.methods and len(config.methods) > 1:
        raise UserError("--methods: 'all' cannot be combined with other names")
    if config.metrics is not None:
        registry = load_builtin_metrics()
        for name in config.metrics:
            if not name.startswith("pyiqa:"):
                registry.factory(name)


def _prepare_out(out: Path) -> None:
    """Create the run folder, check it is writable, and remove temp files a killed run left there."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write(out / ".srbench-write-test", b"")
        (out / ".srbench-write-test").unlink()
    except OSError as exc:
        raise UserError(f"{out}: cannot write the output folder ({exc.strerror or exc})") from None
    sweep_partials(out)


def run(config: RunConfig) -> RunResult:
    from .datasets import resolve_dataset

    config.methods, config.datasets = _unique(config.methods), _unique(config.datasets)
    config.scales = _unique(config.scales)
    if config.metrics is not None:
        config.metrics = _unique(config.metrics)
    validate_config(config)
    out = Path(config.out)
    metrics, metrics_unavailable = select_metrics(config.metrics)
    for name, reason in metrics_unavailable.items():
        _warn(f"metric {name} unavailable: {reason}")
    datasets = [resolve_dataset(name, config.data_root) for name in config.datasets]
    methods = select_methods(config.methods, config.scales, config)
    _prepare_out(out)
    if config.use_cache:
        results_cache.sweep()

    rows: list[dict] = []
    errors: list[dict] = []
    methods_info: dict[str, dict] = {}
    for scale in config.scales:
        ctx = EvalContext.make(scale, config.protocol, config.crop_border)
        for name, method, reason in methods:
            info = methods_info.setdefault(name, {"status": "ok", "scales": {}})
            if method is None:
                _record_unusable(name, reason, scale, datasets, info, errors)
                continue
            try:
                identity = method.identity(scale)
            except Unavailable as exc:
                _record_unusable(name, str(exc), scale, datasets, info, errors)
                continue
            except Exception as exc:  # bad weights, a broken adapter: this method fails, the run goes on
                _record_unusable(name, FAILED_PREFIX + _one_line(exc), scale, datasets, info, errors)
                continue
            info["scales"][str(scale)] = {"status": "ok", "identity": identity}
            for ds in datasets:
                rows.extend(_run_method_on_dataset(method, name, identity, ds, scale, metrics, ctx, config,
                                                   out, errors))
    for name, info in methods_info.items():
        statuses = {s["status"] for s in info["scales"].values()}
        info["status"] = "ok" if "ok" in statuses else "failed" if "failed" in statuses else "skipped"
        if info["status"] != "ok":
            info["reason"] = "; ".join(s["reason"] for s in info["scales"].values())
    metric_names = [m.name for m in metrics]
    per_image = pd.DataFrame(rows, columns=KEY_COLUMNS + metric_names)
    summary = summarise(per_image, metrics)
    # a reused --out keeps no SR image or report of another run (README: Outputs)
    remove_stale_outputs(out, per_image[KEY_COLUMNS].itertuples(index=False, name=None) if config.save_sr else ())
    _write_tables(out, per_image, summary, errors)
    run_info = {
        "config": asdict(config),
        "metrics": {m.name: {"higher_is_better": m.higher_is_better, "description": m.description,
                             "version": m.version} for m in metrics},
        "metrics_unavailable": metrics_unavailable,
        "datasets": {ds.name: {"root": str(ds.root), "images": {im.name: im.sha256 for im in ds.images}}
                     for ds in datasets},
        "methods": methods_info,
        "protocol": {"name": ctx.protocol.name, "description": ctx.protocol.description},
        "versions": _versions(),
    }
    run_info.update(manifest(out))  # run id and table digests: run.json, written last, ties the files together
    write_text_atomic(out / "run.json", json.dumps(run_info, indent=2, sort_keys=True, default=str) + "\n")
    skipped = {n: i.get("reason", "") for n, i in methods_info.items() if i["status"] == "skipped"}
    return RunResult(out=out, per_image=per_image, summary=summary, errors=errors, skipped=skipped)


def _record_unusable(name: str, reason: str, scale: int, datasets, info: dict, errors: list[dict]) -> None:
    """A method that could not be constructed: skipped (Unavailable) or failed (an error per dataset)."""
    if not reason.startswith(FAILED_PREFIX):
        info["scales"][str(scale)] = {"status": "skipped", "reason": reason}
        _warn(f"skipping {name} x{scale}: {reason}")
        return
    message = reason[len(FAILED_PREFIX):]
    info["scales"][str(scale)] = {"status": "failed", "reason": message}
    for ds in datasets:
        errors.append({"method": name, "dataset": ds.name, "scale": scale, "image": "*", "error": message})
    _warn(f"error: {name} x{scale}: {message}")


def _run_method_on_dataset(method, name, identity, ds, scale, metrics, ctx, config, out, errors) -> list[dict]:
    from tqdm import tqdm

    rows = []
    images = tqdm(ds.images, desc=f"{name} {ds.name} x{scale}", unit="img", leave=False,
                  disable=not config.progress, file=sys.stderr)
    for image in images:
        label = str(image.path)  # errors name the file; the stderr line adds method, dataset and scale
        try:
            hr = read_image(image.path)
            hr_sha = pixels_hash(hr)  # the pixels evaluated, whatever file or decoder they came from
            min_side = min(hr.shape[:2]) // scale * scale
            if min_side < max(2 * ctx.crop_border + 1, scale):
                raise UserError(f"{image.path}: image {hr.shape[1]}x{hr.shape[0]} is too small for x{scale} "
                                f"with a {ctx.crop_border}-px border crop")
            sr_path = sr_image_path(out, name, ds.name, scale, image.name) if config.save_sr else None
            values = evaluate_item(method, identity, hr, hr_sha, scale, metrics, ctx, config, label, sr_path)
        except Exception as exc:  # one bad item must not cost the rest of the run
            message = _one_line(exc)
            errors.append({"method": name, "dataset": ds.name, "scale": scale, "image": image.name,
                           "error": message})
            where = "" if message.startswith(str(image.path)) else f" {image.path}"
            _warn(f"error: {name} {ds.name} x{scale}{where}: {message}")
            continue
        rows.append({"method": name, "dataset": ds.name, "scale": scale, "image": image.name, **values})
    return rows


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line (a multi-line message, such as torch's state_dict errors, is
    joined and cut at MAX_MESSAGE characters), prefixed with its type unless srbench raised it on purpose
    (those messages already name the file and the problem)."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 3] + "..."
    if isinstance(exc, SrbenchError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def summarise(per_image: pd.DataFrame, metrics: list[Metric]) -> pd.DataFrame:
    rows = []
    if not per_image.empty:
        for (method, dataset, scale), group in per_image.groupby(["method", "dataset", "scale"], sort=False):
            row = {"method": method, "dataset": dataset, "scale": scale}
            for m in metrics:
                row[m.name] = m.aggregate(group[m.name].to_numpy(dtype=np.float64))
            rows.append(row)
    return pd.DataFrame(rows, columns=["method", "dataset", "scale"] + [m.name for m in metrics])


def _write_tables(out: Path, per_image: pd.DataFrame, summary: pd.DataFrame, errors: list[dict]) -> None:
    # repr-exact floats so that two runs (or a resumed run) give byte-identical tables
    write_text_atomic(out / "per_image.csv", per_image.to_csv(index=False, float_format="%.17g"))
    write_text_atomic(out / "summary.csv", summary.to_csv(index=False, float_format="%.17g"))
    err = pd.DataFrame(errors, columns=["method", "dataset", "scale", "image", "error"])
    write_text_atomic(out / "errors.csv", err.to_csv(index=False))
