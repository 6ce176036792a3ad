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
from .imageio import read_image, write_png_atomic, write_text_atomic
from .metrics import EvalContext, EvalImage, Metric, load_builtin_metrics
from .methods import SRMethod, SROutput, discover_methods

DEFAULT_METRICS = ("psnr_y", "ssim_y", "rmse", "gsm", "niqe", "niqe_pirm", "ma", "pi")
SCALES = (2, 3, 4, 8)
KEY_COLUMNS = ["method", "dataset", "scale", "image"]


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
    """[(name, method or None, skip reason)] in a stable order."""
    registry = discover_methods()
    if names == ["all"]:
        names = [n for n in registry.names()
                 if any(s in registry.factory(n).scales for s in scales)]
    selected = []
    for name in names:
        if name.startswith("torch:"):
            from .methods.generic import create_generic_method

            if not config.arch:
                raise UserError(f"{name}: a checkpoint method needs --arch NAME")
            method = create_generic_method(name, config.arch, device=config.device, tile=config.tile)
        else:
            method = registry.create(name, device=config.device, tile=config.tile)
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


def _validate_sr(sr: SROutput, expected: tuple[int, int], label: str) -> None:
    if sr.pixels.shape[:2] != expected:
        raise SrbenchError(f"{label}: SR output has size {sr.pixels.shape[1]}x{sr.pixels.shape[0]}, "
                           f"expected {expected[1]}x{expected[0]}")
    if sr.native_y is not None and not np.all(np.isfinite(sr.native_y)):
        raise SrbenchError(f"{label}: SR output contains NaN or Inf")


def _sr_output(method: SRMethod, identity: str, hr: np.ndarray, hr_sha: str, scale: int,
               config: RunConfig, label: str) -> tuple[SROutput, str]:
    sr_key = results_cache.make_key("sr", identity, hr_sha, scale, config.degradation)
    if config.use_cache:
        pixels = results_cache.load_sr(sr_key)
        if pixels is not None:
            native = results_cache.load_sr(sr_key + ".y")
            return SROutput(pixels=pixels, native_y=None if native is None
                            else native[:, :, 0].astype(np.float64)), sr_key
    lr = degrade(config.degradation, hr, scale, use_cache=config.use_cache)
    sr = method.super_resolve(lr, scale)
    expected = (lr.shape[0] * scale, lr.shape[1] * scale)
    _validate_sr(sr, expected, label)
    if config.use_cache:
        if sr.native_y is not None:
            results_cache.store_sr(sr_key + ".y", matlab.to_uint8(sr.native_y))
        results_cache.store_sr(sr_key, sr.pixels)  # the RGB last: its presence marks the pair complete
    return sr, sr_key


def evaluate_item(method: SRMethod, identity: str, hr: np.ndarray, hr_sha: str, scale: int,
                  metrics: list[Metric], ctx: EvalContext, config: RunConfig, label: str,
                  sr_out_path: Path | None) -> dict[str, float]:
    record_key = results_cache.make_key("record", identity, hr_sha, scale, config.degradation)
    record = (results_cache.load_record(record_key) if config.use_cache else None) or {"metrics": {}}
    wanted = {m.name: _metric_key(m, ctx) for m in metrics}
    missing = [m for m in metrics if wanted[m.name] not in record["metrics"]]
    need_sr = bool(missing) or (sr_out_path is not None and not sr_out_path.is_file())
    if need_sr:
        sr, _ = _sr_output(method, identity, hr, hr_sha, scale, config, label)
        if sr_out_path is not None and not sr_out_path.is_file():
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


def run(config: RunConfig) -> RunResult:
    from .datasets import resolve_dataset

    DEGRADATIONS.factory(config.degradation)  # fail early on an unknown name
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    metrics, metrics_unavailable = select_metrics(config.metrics)
    for name, reason in metrics_unavailable.items():
        _warn(f"metric {name} unavailable: {reason}")
    datasets = [resolve_dataset(name, config.data_root) for name in config.datasets]
    methods = select_methods(config.methods, config.scales, config)

    rows: list[dict] = []
    errors: list[dict] = []
    methods_info: dict[str, dict] = {}
    for scale in config.scales:
        ctx = EvalContext.make(scale, config.protocol, config.crop_border)
        for name, method, _ in methods:
            info = methods_info.setdefault(name, {"status": "ok", "scales": {}})
            try:
                identity = method.identity(scale)
            except (Unavailable, UserError) as exc:
                info["scales"][str(scale)] = {"status": "skipped", "reason": str(exc)}
                _warn(f"skipping {name} x{scale}: {exc}")
                continue
            info["scales"][str(scale)] = {"status": "ok", "identity": identity}
            for ds in datasets:
                rows.extend(_run_method_on_dataset(method, name, identity, ds, scale, metrics, ctx, config,
                                                   out, errors))
    for name, info in methods_info.items():
        statuses = {s["status"] for s in info["scales"].values()}
        info["status"] = "ok" if "ok" in statuses else "skipped"
        if info["status"] == "skipped":
            info["reason"] = "; ".join(s["reason"] for s in info["scales"].values())
    metric_names = [m.name for m in metrics]
    per_image = pd.DataFrame(rows, columns=KEY_COLUMNS + metric_names)
    summary = summarise(per_image, metrics)
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
    write_text_atomic(out / "run.json", json.dumps(run_info, indent=2, sort_keys=True, default=str) + "\n")
    skipped = {n: i.get("reason", "") for n, i in methods_info.items() if i["status"] == "skipped"}
    return RunResult(out=out, per_image=per_image, summary=summary, errors=errors, skipped=skipped)


def _run_method_on_dataset(method, name, identity, ds, scale, metrics, ctx, config, out, errors) -> list[dict]:
    from tqdm import tqdm

    rows = []
    images = tqdm(ds.images, desc=f"{name} {ds.name} x{scale}", unit="img", leave=False,
                  disable=not config.progress, file=sys.stderr)
    for image in images:
        label = f"{name} {ds.name} x{scale} {image.path}"
        try:
            hr = read_image(image.path)
            hr_sha = image.sha256 or pixels_hash(hr)
            min_side = min(hr.shape[:2]) // scale * scale
            if min_side < max(2 * ctx.crop_border + 1, scale):
                raise UserError(f"{image.path}: image {hr.shape[1]}x{hr.shape[0]} is too small for x{scale} "
                                f"with a {ctx.crop_border}-px border crop")
            sr_path = (out / "sr" / _safe(name) / ds.name / f"x{scale}" / f"{image.name}.png"
                       if config.save_sr else None)
            values = evaluate_item(method, identity, hr, hr_sha, scale, metrics, ctx, config, label, sr_path)
        except Exception as exc:  # one bad item must not cost the rest of the run
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            errors.append({"method": name, "dataset": ds.name, "scale": scale, "image": image.name,
                           "error": message})
            _warn(f"error: {name} {ds.name} x{scale} {image.name}: {message}")
            continue
        rows.append({"method": name, "dataset": ds.name, "scale": scale, "image": image.name, **values})
    return rows


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


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
