"""The benchmark runner: methods x datasets x scales -> per-image and summary tables.

Work is cached per (method identity, HR image, scale, degradation) through `results_cache`, so a rerun
after a kill computes only what is missing and produces the same tables. A failure of one item is recorded
in `errors.csv` and on stderr and the run goes on; methods or metrics that cannot run here are reported as
skipped with their reason.
"""
from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__, results_cache
from .atomic import atomic_write, sweep_partials
from .degradations import DEGRADATIONS
from .devices import resolve_device
from .errors import UserError
from .imageio import write_text_atomic
from .run_folder import manifest, remove_stale_outputs
from .methods import check_user_weights, discover_methods
from .metrics import load_builtin_metrics
from .skips import short_reason
# the plan, per-item evaluation and tabulation live in their own modules; their names stay importable here
from .plan import (DEFAULT_METRICS, FAILED_PREFIX, MAX_MESSAGE, build_plan, degradation_key,  # noqa: F401
                   method_key, metric_key as _metric_key, one_line as _one_line, select_methods,
                   select_metrics, warn as _warn)
from .evaluate import evaluate_item  # noqa: F401
from .execute import execute, start_workers
from .tabulate import KEY_COLUMNS, summarise, tabulate, write_tables as _write_tables  # noqa: F401

SCALES = (2, 3, 4, 8)


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
    device: str = "auto"  # resolved by `srbench.devices.resolve_device` before the run starts
    tile: int | None = None
    arch: str | None = None
    weights: dict[str, str] | None = None   # method name -> a user checkpoint of its architecture (--weights)
    use_cache: bool = True
    save_sr: bool = True
    progress: bool = True
    report: bool = True
    jobs: int | None = None  # worker processes (None: $SRBENCH_JOBS or every core); 1 runs serially
    executor: str = "local"  # "local" (this machine) or "dask"
    scheduler: str | None = None  # Dask scheduler address (None: a LocalCluster of `jobs` workers)
    verbose: bool = False  # a line per finished method x dataset x scale under the progress bar


@dataclass
class RunResult:
    out: Path
    per_image: pd.DataFrame
    summary: pd.DataFrame
    errors: list[dict] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    metrics_unavailable: dict[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0


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
    """Reject bad options before any work starts: one-line UserErrors naming the option (method names:
    `check_method_names`)."""
    from .protocols import check_degradation, get_protocol

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
    check_degradation(get_protocol(config.protocol), config.degradation)
    _check_names(config)
    if config.crop_border is not None and config.crop_border < 0:
        raise UserError(f"--crop-border {config.crop_border}: must be 0 or more pixels")
    if config.tile is not None and config.tile < 8:
        raise UserError(f"--tile {config.tile}: must be at least 8 LR pixels")
    _check_executor(config)
    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: --out must be a folder, this is a file")


def _check_executor(config: RunConfig) -> None:
    from .execute import EXECUTORS

    if config.jobs is not None and (isinstance(config.jobs, bool) or not isinstance(config.jobs, int)
                                    or config.jobs < 1):
        raise UserError(f"--jobs {config.jobs!r}: must be a whole number of at least 1")
    if config.executor not in EXECUTORS:
        raise UserError(f"--executor {config.executor!r}: unknown (choose from {', '.join(EXECUTORS)})")
    if config.scheduler is not None and config.executor != "dask":
        raise UserError("--scheduler: only with --executor dask")
    if config.executor == "dask":
        from .execute.dask_cluster import require_distributed

        require_distributed()


def _check_names(config: RunConfig) -> None:
    """Every dataset and metric name exists: checked before any slow work (checksums, downloads)."""
    from .datasets import check_dataset_name

    for name in config.datasets:
        check_dataset_name(name, config.data_root)
    if "all" in config.methods and len(config.methods) > 1:
        raise UserError("--methods: 'all' cannot be combined with other names")
    if config.metrics is not None:
        registry = load_builtin_metrics()
        for name in config.metrics:
            if not name.startswith("pyiqa:"):
                registry.factory(name)


def check_method_names(config: RunConfig) -> None:
    """Every method name exists and every --weights names a method of the run. Apart from
    `validate_config` because it imports the method folders (their adapters import torch: seconds), which
    `run` does while its workers start up."""
    methods = discover_methods()
    for name in config.methods:
        if name != "all" and not name.startswith("torch:"):
            methods.factory(name)
    check_user_weights(config.weights or {}, config.methods)


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
    # the workers start up (import, load models) while this process imports the methods and makes the plan
    started = start_workers(config)
    try:
        check_method_names(config)
        config.device = resolve_device(config.device)  # 'auto' -> cuda/cpu; an unusable device: exit 2 here
        out = Path(config.out)
        metrics, metrics_unavailable = select_metrics(config.metrics)
        if not metrics:  # tables without a single metric column would look like a successful run
            raise UserError("no metric can be computed: " + "; ".join(f"{n}: {r}" for n, r in metrics_unavailable.items()))
        for name, reason in metrics_unavailable.items():
            _warn(f"metric {name} unavailable: {short_reason(name, reason)}")  # full reason: run.json
        datasets = [resolve_dataset(name, config.data_root) for name in config.datasets]
        methods = select_methods(config.methods, config.scales, config)
        _prepare_out(out)
        if config.use_cache:
            results_cache.sweep()
        plan = build_plan(config, methods, datasets, metrics, out)
        results = execute(plan, config, started)
    finally:
        if started is not None:
            started.close()
    per_image, summary, errors = tabulate(plan, results)
    # a reused --out keeps no SR image or report of another run (README: Outputs)
    remove_stale_outputs(out, per_image[KEY_COLUMNS].itertuples(index=False, name=None) if config.save_sr else ())
    _write_tables(out, per_image, summary, errors)
    methods_info = plan.methods_info
    ctx = next(iter(plan.contexts.values()))
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
    return RunResult(out=out, per_image=per_image, summary=summary, errors=errors, skipped=skipped,
                     metrics_unavailable=metrics_unavailable)
