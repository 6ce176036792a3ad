"""`srbench gate --baseline FILE RUN_DIR`: fail (exit 1) when a run's metrics drift from a baseline."""
from __future__ import annotations

from pathlib import Path

NAME = "gate"
HELP = "compare a run's metrics with a committed baseline; exit 1 on drift beyond tolerance, 0 otherwise"


def add_arguments(p) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR", help="directory written by `srbench run --out`")
    p.add_argument("--baseline", required=True, metavar="FILE",
                   help="baseline CSV (method,dataset,scale,metric,value) written by --update")
    p.add_argument("--tolerance", action="append", metavar="METRIC=ABS", default=[],
                   help="absolute tolerance per metric, e.g. psnr_y=0.01 (repeat the option, or comma-separate: "
                        "psnr_y=0.01,ssim_y=1e-4); "
                        "'default=X' for all metrics not named "
                        "(built-in default: 1e-6, i.e. any real change is drift)")
    p.add_argument("--update", action="store_true",
                   help="write the run's values as the new baseline (after showing what changed) and exit 0")
    p.add_argument("--all", action="store_true", help="list unchanged values too")


def run(args) -> int:
    from ..errors import UserError
    from ..gate import compare, format_table, load_baseline, parse_tolerances, run_values, write_baseline

    tolerances = parse_tolerances(args.tolerance)
    current = run_values(args.run_dir)
    baseline_path = Path(args.baseline)
    if args.update:
        if not current:
            raise UserError(f"{args.run_dir}/summary.csv: the run has no results; refusing to write an empty baseline")
        baseline = load_baseline(baseline_path) if baseline_path.exists() else {}
        if baseline:
            print(format_table(compare(baseline, current, tolerances), show_all=args.all))
        write_baseline(baseline_path, current)
        print(f"baseline updated: {baseline_path} ({len(current)} values)")
        return 0
    baseline = load_baseline(baseline_path)
    if not baseline:
        raise UserError(f"{baseline_path}: baseline has no rows (create it with --update)")
    rows = compare(baseline, current, tolerances)
    print(format_table(rows, show_all=args.all))
    if any(r.drifted for r in rows):
        print(f"gate: FAILED - metrics drifted from {baseline_path}; if the change is intended, "
              f"run `srbench gate --update --baseline {baseline_path} {args.run_dir}` and commit the baseline")
        return 1
    print("gate: passed")
    return 0
