"""`srbench report RUN_DIR [--out DIR] [--markdown FILE] [--latex FILE]`: HTML report, Markdown leaderboard
and LaTeX tables of a run.

With `--out DIR` (a folder other than RUN_DIR) the run's tables are copied into DIR (absolute paths made
relative or cut), so DIR can later be re-rendered on its own: `srbench report DIR --out DIR`. Crops of a
report folder whose SR images are gone are kept.
"""
from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

NAME = "report"
HELP = "write the HTML report (leaderboard, plots, per-image tables, visual comparison) of a run directory"
ENV_VARS = ("SRBENCH_DATA", "SRBENCH_SHARED")
TABLES = ("per_image.csv", "summary.csv", "errors.csv")


def add_arguments(p) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR", help="directory written by `srbench run --out` (or a report "
                                                      "folder holding a run's tables)")
    p.add_argument("--out", metavar="DIR", help="report folder (default: RUN_DIR/report)")
    p.add_argument("--markdown", metavar="FILE", help="also write the leaderboard as Markdown (e.g. leaderboard.md)")
    p.add_argument("--latex", metavar="FILE", help="also write booktabs LaTeX tables (e.g. tables.tex)")
    p.add_argument("--latex-metrics", metavar="LIST", default=None,
                   help="comma-separated metrics of the LaTeX tables (default: psnr_y,ssim_y)")
    p.add_argument("--regenerate-with", metavar="COMMAND",
                   help="command line recorded in the Markdown file as the way to regenerate it "
                        "(default: the run's recorded command, with its environment variables and --out, "
                        "followed by this report command)")


def _portable(path: str) -> str:
    """A path as the regenerate command should hold it: relative to the current folder."""
    p = Path(path).expanduser()
    return os.path.relpath(p) if p.is_absolute() else str(p)


def _run_out(config: dict) -> str:
    """Where the regenerate command's run writes: the recorded --out if relative, else runs/<its name>."""
    out = str(config.get("out") or "runs/latest")
    return out if not Path(out).is_absolute() and not out.startswith("…") else f"runs/{Path(out).name}"


def _regenerate_command(args) -> str:
    if args.regenerate_with:
        return args.regenerate_with
    from ..report import load_run

    config = load_run(args.run_dir).info.get("config") or {}
    env = [f"{k}={shlex.quote(_portable(os.environ[k]))}" for k in ENV_VARS if os.environ.get(k)]
    recorded = _run_command(config)
    source = _run_out(config) if recorded else str(args.run_dir)
    words = ["srbench", "report", source]
    for flag, value in (("--out", args.out), ("--markdown", args.markdown), ("--latex", args.latex),
                        ("--latex-metrics", args.latex_metrics)):
        if value:
            words += [flag, value if flag == "--latex-metrics" else _portable(value)]
    report = shlex.join(words)
    prefix = " ".join(env)
    if recorded:
        return f"{prefix + ' ' if prefix else ''}{recorded} && {report}"
    return f"{prefix + ' ' if prefix else ''}{report}"


def _method_spec(name: str) -> str:
    return "torch:" + _portable(name[len("torch:"):]) if name.startswith("torch:") else name


def _run_command(config: dict) -> str | None:
    """The `srbench run` line that reproduces a run, rebuilt from its recorded configuration."""
    if not config.get("methods") or not config.get("datasets") or not config.get("scales"):
        return None
    words = ["srbench", "run", "--methods", ",".join(_method_spec(m) for m in config["methods"]),
             "--datasets", ",".join(config["datasets"]), "--scale", ",".join(str(s) for s in config["scales"])]
    defaults = {"degradation": "bicubic", "protocol": "matlab", "crop_border": None, "metrics": None,
                "data_root": None, "arch": None, "device": "cpu", "tile": None}
    for key, default in defaults.items():
        value = config.get(key)
        if value is not None and value != default:
            if key == "data_root":
                value = _portable(str(value))
            words += [f"--{key.replace('_', '-')}", ",".join(value) if isinstance(value, list) else str(value)]
    return shlex.join(words + ["--out", _run_out(config)])


def _portable_info(info: dict, out: Path) -> dict:
    """run.json for a copy in `out`: dataset roots relative to it, other absolute paths cut."""
    from ..report.text import scrub_paths

    info = json.loads(json.dumps(info))
    for entry in (info.get("datasets") or {}).values():
        if isinstance(entry, dict) and entry.get("root") and Path(entry["root"]).is_absolute():
            entry["root"] = os.path.relpath(entry["root"], out.resolve())
    config = info.get("config") or {}
    for key in ("out", "data_root"):
        if isinstance(config.get(key), str):
            config[key] = scrub_paths(config[key])
    if isinstance(config.get("methods"), list):
        config["methods"] = [scrub_paths(m) for m in config["methods"]]
    for entry in (info.get("methods") or {}).values():
        if isinstance(entry, dict):
            for key in ("reason", "spec"):
                if isinstance(entry.get(key), str):
                    entry[key] = scrub_paths(entry[key])
            for scale in (entry.get("scales") or {}).values():
                if isinstance(scale, dict) and isinstance(scale.get("reason"), str):
                    scale["reason"] = scrub_paths(scale["reason"])
    return info


def copy_tables(run_dir: Path, out: Path) -> None:
    """The run's tables beside its report, so the report folder can be re-rendered without the run."""
    import pandas as pd

    from ..imageio import write_text_atomic
    from ..report.text import scrub_paths

    if run_dir.resolve() == out.resolve():
        return
    for name in TABLES:
        src = run_dir / name
        if not src.is_file():
            continue
        text = src.read_text(encoding="utf-8")
        if name == "errors.csv":
            table = pd.read_csv(src, dtype=str, keep_default_na=False)
            if "error" in table.columns:
                table["error"] = table["error"].map(scrub_paths)
            text = table.to_csv(index=False)
        write_text_atomic(out / name, text)
    info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    write_text_atomic(out / "run.json", json.dumps(_portable_info(info, out), indent=2, sort_keys=True) + "\n")


def run(args) -> int:
    from ..report import generate_report, write_markdown_leaderboard

    index = generate_report(args.run_dir, args.out)
    print(f"report: {index}")
    if args.out:
        copy_tables(Path(args.run_dir), Path(args.out))
    if args.markdown:
        path = write_markdown_leaderboard(args.run_dir, args.markdown, _regenerate_command(args))
        print(f"markdown leaderboard: {path}")
    if args.latex:
        from ..report.latex import write_latex

        metrics = [m for m in args.latex_metrics.split(",") if m] if args.latex_metrics else None
        path = write_latex(args.run_dir, args.latex, metrics)
        print(f"latex tables: {path}")
    return 0
