"""`srbench run`: benchmark methods x datasets x scales."""
from __future__ import annotations

import sys

NAME = "run"
HELP = "super-resolve datasets with methods and score them (writes per_image.csv, summary.csv, run.json)"


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def add_arguments(p) -> None:
    p.add_argument("--methods", default="all", help="'all' or comma-separated method names; "
                   "'torch:PATH' benchmarks a checkpoint of a registered architecture (with --arch)")
    p.add_argument("--datasets", default="default", help="'default' (embedded, offline) or e.g. Set5,Set14")
    p.add_argument("--scale", default="4", help="scale factor(s): 2, 3, 4, 8 (comma-separated for several)")
    p.add_argument("--degradation", default="bicubic", help="how LR is made (see `srbench list degradations`)")
    p.add_argument("--metrics", default=None, help="comma-separated metric names (default: every available one)")
    p.add_argument("--protocol", default="matlab", help="evaluation protocol preset (see `srbench list protocols`)")
    p.add_argument("--crop-border", type=int, default=None, help="override the protocol's border crop (pixels)")
    p.add_argument("--data-root", default=None, help="folder with <Name>/HR/*.png (default: $SRBENCH_DATA)")
    p.add_argument("--out", default="runs/latest", help="output folder (default: runs/latest)")
    p.add_argument("--device", default="cpu", help="torch device for the networks (cpu, cuda, cuda:1, ...)")
    p.add_argument("--tile", type=int, default=None, help="tile size in pixels of the network input (the LR image, or the bicubic-upsampled one for pre-upsampling methods such as SRCNN/VDSR)")
    p.add_argument("--arch", default=None, help="architecture name for torch:PATH methods")
    p.add_argument("--no-cache", action="store_true", help="recompute everything, read and write no cache")
    p.add_argument("--no-save-sr", action="store_true", help="do not write SR images into the run folder")
    p.add_argument("--no-report", action="store_true", help="do not write the HTML report at the end")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--verbose", action="store_true", help="also a line per finished method x dataset x scale")
    p.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                   help="worker processes (default: $SRBENCH_JOBS, else every core this process may use); "
                   "1 runs everything in this process")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local: this machine (--jobs worker processes); dask: a Dask cluster (pip install "
                   "'srbench[dask]')")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="with --executor dask: the cluster's scheduler (default: a LocalCluster of --jobs workers)")


def _jobs(value: str) -> int:
    import argparse

    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"{jobs}: must be at least 1")
    return jobs


def run(args) -> int:
    from ..runner import RunConfig, parse_scale, run as run_benchmark

    config = RunConfig(
        methods=_csv(args.methods), datasets=_csv(args.datasets),
        scales=[parse_scale(s) for s in _csv(args.scale)], out=args.out, degradation=args.degradation,
        metrics=_csv(args.metrics) if args.metrics else None, protocol=args.protocol,
        crop_border=args.crop_border, data_root=args.data_root, device=args.device, tile=args.tile,
        arch=args.arch, use_cache=not args.no_cache, save_sr=not args.no_save_sr, progress=not args.quiet,
        report=not args.no_report, jobs=args.jobs, executor=args.executor, scheduler=args.scheduler,
        verbose=args.verbose)
    result = run_benchmark(config)
    if not result.summary.empty:
        import pandas as pd

        with pd.option_context("display.max_columns", None, "display.width", 200,
                               "display.float_format", "{:.4f}".format):
            print(result.summary.to_string(index=False))
    for name, reason in result.skipped.items():
        print(f"skipped {name}: {reason}", file=sys.stderr)
    if config.report:
        try:
            from ..report import generate_report
        except ImportError:
            generate_report = None
        if generate_report is not None:
            path = generate_report(result.out)
            print(f"report: {path}")
    print(f"results: {result.out}/summary.csv, {result.out}/per_image.csv"
          + (f"; {len(result.errors)} error(s) in {result.out}/errors.csv" if result.errors else ""))
    return result.exit_code
