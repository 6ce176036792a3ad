"""Throughput of `srbench run`: items/s of the serial executor, `--jobs 2` and Dask `LocalCluster(2)` on
fixed workloads, as ratios to serial, with the runs' tables compared byte for byte; plus the serial
per-item overhead (wall time not spent inside the method's `super_resolve` or a metric's `compute`).

    SRBENCH_SHARED=/path/to/shared SRBENCH_DATA=/path/to/shared/datasets \
        python benchmarks/bench_throughput.py [--workloads metrics,mixed,fidelity]
        [--executors serial,jobs2,dask2] [--repeat 3] [--out DIR]

Workloads (x4, every one from an empty cache of its own):
  metrics   bicubic on BSD100 with the default metrics: metrics-bound (bicubic costs ~1% of an item)
  mixed     bicubic + srcnn on Set14 with the default metrics: half of serial's time is SRCNN's
            convolutions, which already run on every core through torch's threads in the serial
            executor, so workers can only speed up the other half (Amdahl)
  fidelity  bicubic on BSD100 with psnr_y, ssim_y: cheap items, where per-item overhead and worker
            start-up dominate
Executors: serial (--jobs 1, the reference), serial1t (--jobs 1 with one torch/BLAS thread: what serial
would cost without torch's threads), jobs2 (--jobs 2), dask2 (--executor dask --jobs 2: a LocalCluster of two
worker processes).

Each run is a fresh `python` process, timed around `srbench.run` (so every executor pays its own start-up:
models loading, worker processes importing what they need), as a user's `srbench run` does. The client's
own imports, torch among them, are made before the clock starts, in every executor alike: a CLI run pays
them too, while its workers are already starting. The default metrics
include Ma and PI: when Ma's trained model does not resolve, both get a synthetic model of the real one's
size (3 forests x 2000 trees, tests/ma_model_fixture.py), so the timings are representative; its values are
not Ma scores, which the output says. The machine's load (`os.getloadavg`) is printed beside the numbers:
the ratios are only as good as the machine is idle. Each executor runs `--repeat` times, interleaved with the
others; the ratios are of each executor's fastest run (a busy spell of a shared machine only ever adds time),
and each round's own ratio is printed beside them.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WORKLOADS = {
    "metrics": dict(methods=["bicubic"], datasets=["BSD100"], scales=[4], metrics=None),
    "mixed": dict(methods=["bicubic", "srcnn"], datasets=["Set14"], scales=[4], metrics=None),
    "fidelity": dict(methods=["bicubic"], datasets=["BSD100"], scales=[4], metrics=["psnr_y", "ssim_y"]),
}
EXECUTORS = {"serial": dict(jobs=1), "serial1t": dict(jobs=1), "jobs2": dict(jobs=2),
             "dask2": dict(jobs=2, executor="dask")}
ONE_THREAD = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
TABLES = ("per_image.csv", "summary.csv", "errors.csv")


class Timers:
    """Seconds spent inside SR methods and metrics, by wrapping their classes' entry points (this process
    only, so meaningful for the serial executor)."""

    def __init__(self):
        self.method = self.metric = 0.0

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

    def install(self, method_names, metric_names):
        from srbench.methods import SRMethod, discover_methods
        from srbench.metrics import load_builtin_metrics

        methods = discover_methods()
        for cls in {SRMethod} | {methods.factory(n) for n in method_names}:
            self._wrap(cls, "super_resolve", "method")  # an override gets its own wrapper, the base one too
        metrics = load_builtin_metrics()
        for name in metric_names:
            for cls in type(metrics.create(name)).__mro__:
                if "compute" in cls.__dict__ and cls.__name__ != "Metric":
                    self._wrap(cls, "compute", "metric")
                    break


def child(spec: dict) -> dict:
    """One timed run in this (fresh) process."""
    import torch  # the client's imports stay outside the clock, the same for every executor (see above)

    if spec["threads"] == 1:
        torch.set_num_threads(1)
    from srbench.plan import DEFAULT_METRICS
    from srbench.metrics import load_builtin_metrics
    from srbench.runner import RunConfig, run

    workload = WORKLOADS[spec["workload"]]
    timers = None
    if EXECUTORS[spec["executor"]]["jobs"] == 1:
        timers = Timers()
        registry = load_builtin_metrics()
        timers.install(workload["methods"], workload["metrics"] or [n for n in DEFAULT_METRICS if n in registry])
    config = RunConfig(out=spec["out"], progress=False, report=False, **workload, **EXECUTORS[spec["executor"]])
    start = time.perf_counter()
    result = run(config)
    wall = time.perf_counter() - start
    out = {"wall": wall, "items": len(result.per_image), "errors": len(result.errors),
           "metrics": list(result.per_image.columns), "skipped": result.skipped}
    if timers is not None:
        out.update(method_s=timers.method, metrics_s=timers.metric)
    return out


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {len(os.sched_getaffinity(0))} cores"


def _ma_model(tmp: Path) -> tuple[str | None, str]:
    """SRBENCH_MA_MODEL for the runs, and what it is."""
    from srbench.iqa_assets import MA_MODEL, ma_model_explicit_path

    try:
        return None, f"Ma model: {MA_MODEL.resolve(ma_model_explicit_path(), allow_download=False)}"
    except Exception:  # not found here: a stand-in of the real model's size
        sys.path.insert(0, str(REPO / "tests"))
        from ma_model_fixture import write_model

        path = tmp / "synthetic_ma_model.mat"
        write_model(path, seed=0, ntree=2000, depth=20, max_nodes=577)
        return str(path), ("Ma model: SYNTHETIC forests of the real model's size (3 x 2000 trees): timings only, "
                           "the ma_pirm/pi values are not Ma scores")


def measure(workload: str, executor: str, out: Path, env: dict) -> dict:
    spec = {"workload": workload, "executor": executor, "out": str(out), "threads": 1 if executor == "serial1t" else 0}
    run_env = dict(env)
    if executor == "serial1t":
        run_env.update({name: "1" for name in ONE_THREAD})
    with tempfile.TemporaryDirectory(prefix="srbench-bench-cache-") as cache:
        run_env["SRBENCH_CACHE"] = cache
        proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], env=run_env,
                              capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"bench: {workload} {executor} failed (rc {proc.returncode}):\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["errors"]:
        raise SystemExit(f"bench: {result['errors']} item(s) failed in {out} (see its errors.csv)")
    if result["skipped"]:  # a workload without one of its methods is another workload: refuse to time it
        raise SystemExit("bench: " + "; ".join(f"{name} skipped ({reason})" for name, reason in result["skipped"].items())
                         + " (SRBENCH_SHARED names the folder with weights/)")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="metrics,mixed,fidelity")
    parser.add_argument("--executors", default="serial,jobs2,dask2", help="the first one is the reference")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each executor, interleaved (serial, jobs2, dask2, serial, ...) so that a "
                             "slow spell of the machine hits every executor alike; ratios use each one's fastest")
    parser.add_argument("--out", default=None, help="folder for the run folders (default: a temp folder)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="srbench-bench-"))
    env = dict(os.environ)
    env.pop("SRBENCH_JOBS", None)
    ma_path, ma_line = _ma_model(root)
    if ma_path:
        env["SRBENCH_MA_MODEL"] = ma_path
    print(f"bench: {_load()}; {ma_line}", flush=True)
    ok = True
    for name in [w.strip() for w in args.workloads.split(",") if w.strip()]:
        executors = [e.strip() for e in args.executors.split(",") if e.strip()]
        walls: dict[str, list[float]] = {e: [] for e in executors}
        items: dict[str, int] = {}
        folders: dict[str, list[Path]] = {e: [] for e in executors}
        for repeat in range(args.repeat):
            for executor in executors:
                folder = root / f"{name}-{executor}-{repeat + 1}"
                folders[executor].append(folder)
                r = measure(name, executor, folder, env)
                walls[executor].append(r["wall"])
                items[executor] = r["items"]
                line = (f"{name} {executor} run {repeat + 1}: {r['items']} items in {r['wall']:.2f} s = "
                        f"{r['items'] / r['wall']:.3f} items/s")
                if "method_s" in r:
                    rest = r["wall"] - r["method_s"] - r["metrics_s"]
                    line += (f" (methods {r['method_s']:.2f} s, metrics {r['metrics_s']:.2f} s, per-item overhead "
                             f"{1000 * rest / r['items']:.1f} ms)")
                print(f"{line}; {_load()}", flush=True)
        base = executors[0]
        reference = folders[base][0]
        for executor in executors:
            same = all((f / t).read_bytes() == (reference / t).read_bytes() for f in folders[executor] for t in TABLES)
            ok &= same
            rate = items[executor] / min(walls[executor])
            line = f"{name} {executor}: best of {len(walls[executor])} {min(walls[executor]):.2f} s = {rate:.3f} items/s"
            if executor != base:
                ratio = rate / (items[base] / min(walls[base]))
                each = ", ".join(f"{items[executor] / w / (items[base] / b):.2f}x"
                                 for w, b in zip(walls[executor], walls[base]))
                line += f" = {ratio:.2f}x {base} (run by run: {each})"
            line += f", tables {'identical' if same else 'DIFFERENT'} ({', '.join(TABLES)}, every run)"
            print(line, flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
