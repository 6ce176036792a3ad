"""Writing the HTML report: leaderboard, per-image drill-down and visual comparison pages."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..imageio import write_text_atomic
from .crops import Comparison, build_comparisons
from .leaderboard import SIGNIFICANCE, Board, arrow, build_boards, format_value
from .plots import PlotFiles, board_plots
from .rundata import RunData, load_run

TEMPLATES = Path(__file__).with_name("templates")


@dataclass
class Section:
    board: Board
    slug: str
    plots: list[dict] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    image_metrics: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)


def group_slug(index: int, board: Board) -> str:
    """A file- and anchor-safe name; the index keeps two datasets that sanitise alike apart."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", board.dataset).strip("-")[:40] or "dataset"
    return f"g{index}-{safe}-x{board.scale}"


def sort_key(value) -> str:
    """data-sort attribute: the exact number for numeric sorting, empty for a missing value."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return ""
    if math.isnan(value):
        return ""
    return "Infinity" if value == math.inf else "-Infinity" if value == -math.inf else repr(value)


def _environment() -> Environment:
    # Method, dataset and file names are untrusted text: autoescape everything.
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(sort_key=sort_key, fmt=format_value, significance=SIGNIFICANCE)
    return env


def _image_rows(run: RunData, board: Board) -> tuple[list[str], list[dict]]:
    table = run.per_image[(run.per_image["dataset"] == board.dataset) & (run.per_image["scale"] == board.scale)]
    metrics = [m for m in run.metrics if m in table.columns and table[m].notna().any()]
    rows = table.sort_values(["image", "method"], kind="stable")[["image", "method"] + metrics]
    return metrics, rows.to_dict("records")


def _relative(plot: PlotFiles, out: Path) -> dict:
    return {"title": plot.title, "note": plot.note,
            "png": plot.png.relative_to(out).as_posix(), "svg": plot.svg.relative_to(out).as_posix()}


def write_report(run: RunData, out: Path, max_comparisons: int = 8) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    sections = []
    for index, board in enumerate(build_boards(run)):
        slug = group_slug(index, board)
        section = Section(board=board, slug=slug)
        section.plots = [_relative(p, out) for p in board_plots(board, out / "plots", slug)]
        section.comparisons = build_comparisons(run, board, out / "crops" / slug, f"crops/{slug}",
                                                max_images=max_comparisons)
        section.image_metrics, section.rows = _image_rows(run, board)
        sections.append(section)

    metrics = list(dict.fromkeys(run.metrics))
    context = {
        "run_dir": str(run.root),
        "sections": sections,
        "arrows": {m: arrow(run.higher_is_better(m)) for m in metrics},
        "descriptions": {m: run.description(m) for m in metrics},
        "skipped": run.skipped_methods(),
        "n_errors": len(run.errors),
        "config": [(str(k), json.dumps(v, sort_keys=True)) for k, v in (run.info.get("config") or {}).items()]
        + [(f"{k} version", json.dumps(v)) for k, v in (run.info.get("versions") or {}).items()],
    }
    env = _environment()
    for page in ("index.html", "images.html", "compare.html"):
        write_text_atomic(out / page, env.get_template(page).render(**context))
    return out / "index.html"


def generate_report(run_dir, out_dir=None) -> Path:
    """Write the HTML report for a run directory (default: RUN_DIR/report); returns its index.html."""
    run = load_run(run_dir)
    out = Path(out_dir) if out_dir is not None else run.root / "report"
    return write_report(run, out)
