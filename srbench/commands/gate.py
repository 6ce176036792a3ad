"""`srbench gate --baseline BASELINE RUN_DIR`: fail (exit 1) when a run's metrics drift from a baseline."""
from __future__ import annotations

from pathlib import Path

NAME = "gate"
HELP = ("compare a run's metrics with a baseline; exit 1 on drift beyond tolerance or missing/new values, "
        "2 on unusable input or values measured differently, 0 otherwise")


def add_arguments(p) -> None:
    from ..gate import describe_defaults

    p.add_argument("run_dir", metavar="RUN_DIR", help="directory written by `srbench run --out`")
    p.add_argument("--baseline", required=True, metavar="BASELINE",
                   help="a baseline file written by --update, a previous run folder, or its summary.csv")
    p.add_argument("--tolerance", action="append", metavar="METRIC=ABS", default=[],
                   help="absolute tolerance per metric, e.g. psnr_y=0.01 (repeat the option, or comma-separate: "
                        "psnr_y=0.01,ssim_y=1e-4); 'default=X' for all metrics not named. "
                        f"Built-in defaults, measured across CPUs' numeric paths (docs/gate.md): {describe_defaults()}")
    p.add_argument("--update", action="store_true",
                   help="write the run's values as the new baseline file (after showing what changed) and exit 0")
    p.add_argument("--all", action="store_true", help="list unchanged values too")


def run(args) -> int:
    from ..errors import UserError
    from ..gate import (check_tolerance_names, check_writable_baseline, compare, context_mismatch, counts,
                        format_table, load_baseline_values, parse_tolerances, run_folder_values, write_baseline)

    tolerances = parse_tolerances(args.tolerance)
    current = run_folder_values(args.run_dir)
    baseline_path = Path(args.baseline)
    if args.update:
        check_writable_baseline(baseline_path)
        if not current.values:
            raise UserError(f"{args.run_dir}/summary.csv: the run has no results; refusing to write an empty baseline")
        baseline = load_baseline_values(baseline_path) if baseline_path.exists() else None
        if baseline is not None and baseline.values:
            check_tolerance_names(tolerances, baseline, current)
            mismatch = context_mismatch(baseline, current)
            if mismatch:
                print(f"note: {mismatch.split('; the values')[0]}")
            print(format_table(compare(baseline.values, current.values, tolerances), show_all=args.all))
        write_baseline(baseline_path, current)
        print(f"baseline updated: {baseline_path} ({len(current.values)} values)")
        return 0
    baseline = load_baseline_values(baseline_path)
    if not baseline.values:
        raise UserError(f"{baseline_path}: baseline has no values (create a baseline file with --update)")
    check_tolerance_names(tolerances, baseline, current)
    mismatch = context_mismatch(baseline, current)
    if mismatch:
        raise UserError(mismatch)
    rows = compare(baseline.values, current.values, tolerances)
    print(format_table(rows, show_all=args.all))
    n = counts(rows)
    if n["DRIFT"] or n["missing"] or n["new"]:
        what = ", ".join(f"{n[k]} {label}" for k, label in (("DRIFT", "drifted"), ("missing", "missing"),
                                                           ("new", "new")) if n[k])
        target = baseline_path if not baseline_path.is_dir() and baseline_path.name != "summary.csv" \
            else Path("baseline.csv")
        print(f"gate: FAILED - {what} against {baseline_path}; if the change is intended, "
              f"run `srbench gate --update --baseline {target} {args.run_dir}` and commit the baseline")
        return 1
    print("gate: passed")
    return 0
