"""Throughput of `srbench run`: items/s of the serial executor, `--jobs 2` and Dask `LocalCluster(2)` on
fixed workloads, as ratios to serial, with the three runs' tables compared byte for byte; plus the serial
per-item overhead (wall time not spent inside the method's `super_resolve` or a metric's `compute`).

    SRBENCH_DATA=/path/to/datasets python benchmarks/bench_throughput.py [--workloads metrics,fidelity]
        [--executors serial,jobs2,dask2] [--overhead-only]

Workloads:
  metrics   bicubic + srcnn on Set14 x4 with the default metrics (metrics-bound)
  fidelity  bicubic on BSD100 x4 with psnr_y, ssim_y (per-item overhead dominates)

Every run starts from an empty cache of its own, so each one computes every item. The machine's load
(`os.getloadavg`) is printed beside the numbers: on a shared machine the ratios are only as good as it is idle.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORKLOADS = {
    "metrics": dict(methods=["bicubic", "srcnn"], datasets=["Set14"], scales=[4], metrics=None),
    "fidelity": dict(methods=["bicubic"], datasets=["BSD100"], scales=[4], metrics=["psnr_y", "ssim_y"]),
}
EXECUTORS = {"serial": dict(jobs=1), "jobs2": dict(jobs=2), "dask2": dict(jobs=2, executor="dask")}
TABLES = ("per_image.csv", "summary.csv", "errors.csv")


class Timers:
    """Seconds spent inside SR methods and metrics, by wrapping their classes' entry points (this process
    only, so meaningful for the serial executor)."""

    def __init__(self):
        self.method = self.metric = 0.0
        self._undo = []

    def _wrap(self, cls, attr: str, slot: str) -> None:
        original = cls.__dict__.get(attr)
        if original is None:
            return

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                setattr(self, slot, getattr(self, slot) + time.perf_counter() - start)
        setattr(cls, attr, timed)
        self._undo.append((cls, attr, original))

    def install(self, method_names, metric_names):
        from srbench.methods import SRMethod, discover_methods
        from srbench.metrics import load_builtin_metrics

        methods = discover_methods()
        classes = {SRMethod} | {methods.factory(n) for n in method_names}
        for cls in classes:  # a class that overrides super_resolve gets its own wrapper, the base one too
            self._wrap(cls, "super_resolve", "method")
        metrics = load_builtin_metrics()
        for name in metric_names:
            for cls in type(metrics.create(name)).__mro__:
                if "compute" in cls.__dict__ and cls.__name__ != "Metric":
                    self._wrap(cls, "compute", "metric")
                    break

    def uninstall(self):
        for cls, attr, original in reversed(self._undo):
            setattr(cls, attr, original)
        self._undo.clear()


def _metric_names(metrics):
    from srbench.runner import DEFAULT_METRICS
    from srbench.metrics import load_builtin_metrics

    registry = load_builtin_metrics()
    return list(metrics) if metrics else [n for n in DEFAULT_METRICS if n in registry]


@contextlib.contextmanager
def _private_cache():
    old = os.environ.get("SRBENCH_CACHE")
    with tempfile.TemporaryDirectory(prefix="srbench-bench-cache-") as cache:
        os.environ["SRBENCH_CACHE"] = cache
        try:
            yield Path(cache)
        finally:
            if old is None:
                os.environ.pop("SRBENCH_CACHE", None)
            else:
                os.environ["SRBENCH_CACHE"] = old


def run_once(workload: dict, out: Path, timers: Timers | None = None, **executor) -> tuple[float, int]:
    """(wall seconds, items evaluated) of one run from an empty cache."""
    from srbench.runner import RunConfig, run

    config = RunConfig(out=str(out), progress=False, report=False, **workload, **executor)
    with _private_cache():
        if timers is not None:
            timers.install(workload["methods"], _metric_names(workload["metrics"]))
        try:
            start = time.perf_counter()
            result = run(config)
            wall = time.perf_counter() - start
        finally:
            if timers is not None:
                timers.uninstall()
    if result.errors:
        raise SystemExit(f"bench: {len(result.errors)} item(s) failed in {out}: {result.errors[0]}")
    return wall, len(result.per_image)


def overhead(workload: dict, out: Path) -> dict:
    """Serial per-item overhead: (wall - time in methods - time in metrics) / items."""
    timers = Timers()
    wall, items = run_once(workload, out, timers)
    rest = wall - timers.method - timers.metric
    return {"items": items, "wall_s": wall, "method_s": timers.method, "metrics_s": timers.metric,
            "overhead_ms_per_item": 1000 * rest / items}


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {len(os.sched_getaffinity(0))} cores"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="metrics,fidelity")
    parser.add_argument("--executors", default="serial,jobs2,dask2")
    parser.add_argument("--overhead-only", action="store_true", help="only the serial per-item overhead")
    parser.add_argument("--out", default=None, help="folder for the run folders (default: a temp folder)")
    args = parser.parse_args(argv)
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="srbench-bench-"))
    print(f"bench: {_load()}", flush=True)
    for name in workloads:
        workload = WORKLOADS[name]
        stats = overhead(workload, root / f"{name}-overhead")
        print(f"{name}: serial per-item overhead {stats['overhead_ms_per_item']:.1f} ms "
              f"({stats['items']} items, wall {stats['wall_s']:.2f} s, methods {stats['method_s']:.2f} s, "
              f"metrics {stats['metrics_s']:.2f} s); {_load()}", flush=True)
    if args.overhead_only:
        return 0
    return throughput(workloads, [e.strip() for e in args.executors.split(",") if e.strip()], root)


def throughput(workloads, executors, root: Path) -> int:
    ok = True
    for name in workloads:
        rates, folders = {}, {}
        for executor in executors:
            out = folders[executor] = root / f"{name}-{executor}"
            wall, items = run_once(WORKLOADS[name], out, **EXECUTORS[executor])
            rates[executor] = items / wall
            print(f"{name} {executor}: {items} items in {wall:.2f} s = {rates[executor]:.3f} items/s; {_load()}",
                  flush=True)
        base = executors[0]
        for executor in executors[1:]:
            same = all((folders[executor] / t).read_bytes() == (folders[base] / t).read_bytes() for t in TABLES)
            ok &= same
            print(f"{name} {executor}: {rates[executor] / rates[base]:.2f}x {base}, tables "
                  f"{'identical' if same else 'DIFFERENT'} ({', '.join(TABLES)})", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
