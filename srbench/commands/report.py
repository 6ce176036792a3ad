"""`srbench report RUN_DIR [--out DIR] [--markdown FILE]`: HTML report and Markdown leaderboard of a run."""
from __future__ import annotations

import shlex

NAME = "report"
HELP = "write the HTML report (leaderboard, plots, per-image tables, visual comparison) of a run directory"


def add_arguments(p) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR", help="directory written by `srbench run --out`")
    p.add_argument("--out", metavar="DIR", help="report folder (default: RUN_DIR/report)")
    p.add_argument("--markdown", metavar="FILE", help="also write the leaderboard as Markdown (e.g. leaderboard.md)")
    p.add_argument("--regenerate-with", metavar="COMMAND",
                   help="command line recorded in the Markdown file as the way to regenerate it "
                        "(default: the run's recorded command, if any, followed by this report command)")


def _regenerate_command(args) -> str:
    if args.regenerate_with:
        return args.regenerate_with
    from ..report import load_run

    config = load_run(args.run_dir).info.get("config") or {}
    report = shlex.join(["srbench", "report", str(args.run_dir), "--markdown", str(args.markdown)])
    recorded = _run_command(config)
    return f"{recorded}\n{report}" if recorded else report


def _run_command(config: dict) -> str | None:
    """The `srbench run` line that reproduces a run, rebuilt from its recorded configuration."""
    if not config.get("methods") or not config.get("datasets") or not config.get("scales"):
        return None
    words = ["srbench", "run", "--methods", ",".join(config["methods"]),
             "--datasets", ",".join(config["datasets"]), "--scale", ",".join(str(s) for s in config["scales"])]
    defaults = {"degradation": "bicubic", "protocol": "matlab", "crop_border": None, "metrics": None}
    for key, default in defaults.items():
        value = config.get(key)
        if value is not None and value != default:
            words += [f"--{key.replace('_', '-')}", ",".join(value) if isinstance(value, list) else str(value)]
    return shlex.join(words + ["--out", str(config.get("out") or "runs/latest")])


def run(args) -> int:
    from ..report import generate_report, write_markdown_leaderboard

    index = generate_report(args.run_dir, args.out)
    print(f"report: {index}")
    if args.markdown:
        path = write_markdown_leaderboard(args.run_dir, args.markdown, _regenerate_command(args))
        print(f"markdown leaderboard: {path}")
    return 0
