"""Writing the HTML report: leaderboard, per-image drill-down and visual comparison pages.

Results come first, methods without results after them. Nothing written holds an absolute path of the
machine that made the run (the run is named by its folder name; paths in reasons are cut to their last
component). A report can be re-rendered from a committed report folder's own tables: where the SR images
are gone, the crops already in the folder are kept (crops/<section>/crops.json describes them).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..imageio import write_text_atomic
from .crops import Comparison, Tile, build_comparisons
from .leaderboard import SIGNIFICANCE, Board, arrow, build_boards, format_value
from .plots import PlotFiles, board_plots, safe_name, scale_plots
from .rundata import RunData, load_run
from .text import scrub_paths

TEMPLATES = Path(__file__).with_name("templates")
CROPS_MANIFEST = "crops.json"
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


@dataclass
class Section:
    board: Board
    slug: str
    plots: list[dict] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    image_metrics: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    tests: list[dict] = field(default_factory=list)
    crops_kept: bool = False
    absent: dict[str, str] = field(default_factory=dict)   # methods not run at this scale, with the reason


def group_slug(index: int, board: Board) -> str:
    """A file- and anchor-safe name; the index keeps two datasets that sanitise alike apart."""
    return f"g{index}-{safe_name(board.dataset)}-x{board.scale}"


def plot_stems(boards: list[Board]) -> list[str]:
    """'Set5_x4' per board, with a numeric suffix where two dataset names sanitise alike."""
    stems, seen = [], set()
    for index, board in enumerate(boards):
        stem = f"{safe_name(board.dataset)}_x{board.scale}"
        if stem in seen:
            stem = f"{stem}-g{index}"
        seen.add(stem)
        stems.append(stem)
    return stems


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
    env.filters["scrub"] = scrub_paths
    return env


def _image_rows(run: RunData, board: Board) -> tuple[list[str], list[dict]]:
    table = run.per_image[(run.per_image["dataset"] == board.dataset) & (run.per_image["scale"] == board.scale)]
    metrics = [m for m in run.metrics if m in table.columns and table[m].notna().any()]
    rows = table.sort_values(["image", "method"], kind="stable")[["image", "method"] + metrics]
    return metrics, rows.to_dict("records")


def _tests(board: Board) -> list[dict]:
    """Every Wilcoxon comparison of the board, for the per-image page."""
    out = []
    for metric in board.metrics:
        best = board.best.get(metric)
        for method in board.methods:
            cell = board.cell(method, metric)
            if best is None or method == best:
                continue
            out.append({"metric": metric, "method": method, "best": best, "n": cell.n_pairs,
                        "p": None if cell.p_value is None else f"{cell.p_value:.3g}"})
    return out


def _relative(plot: PlotFiles, out: Path) -> dict:
    return {"title": plot.title, "note": plot.note, "caption": plot.caption,
            "png": plot.png.relative_to(out).as_posix(), "svg": plot.svg.relative_to(out).as_posix(),
            "pdf": plot.pdf.relative_to(out).as_posix() if plot.pdf else ""}


def _kept_crops(folder: Path) -> list[Comparison] | None:
    """The comparisons a previous rendering left in `folder`, if their manifest and files are all there."""
    manifest = folder / CROPS_MANIFEST
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        comps = [Comparison(image=c["image"], box=tuple(c["box"]), score=float(c["score"]),
                            overview=c.get("overview"), tiles=[Tile(**t) for t in c["tiles"]],
                            notes=list(c.get("notes", []))) for c in data]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    report = folder.parent.parent
    files = [t.src for c in comps for t in c.tiles] + [c.overview for c in comps if c.overview]
    return comps if all((report / f).is_file() for f in files) else None


def _comparisons(run: RunData, board: Board, out: Path, slug: str, max_images: int) -> tuple[list, bool]:
    folder = out / "crops" / slug
    has_sr = any(run.sr_path(m, board.dataset, board.scale, im).is_file()
                 for m in board.methods for im in run.expected_images(board.dataset, board.scale)[:3])
    if not has_sr:
        kept = _kept_crops(folder)
        if kept is not None:
            return kept, True
    comps = build_comparisons(run, board, folder, f"crops/{slug}", max_images=max_images)
    for stale in folder.glob("*.png") if folder.is_dir() else []:
        if stale.name not in {Path(t.src).name for c in comps for t in c.tiles} | {Path(c.overview or "").name
                                                                                 for c in comps}:
            stale.unlink()
    if comps:
        write_text_atomic(folder / CROPS_MANIFEST, json.dumps([asdict(c) for c in comps], indent=1) + "\n")
    return comps, False


def _remove_stale_plots(plots: Path, written: set[Path]) -> None:
    """Figures of an earlier rendering into the same folder (other names, other sections) go."""
    if plots.is_dir():
        for path in plots.iterdir():
            if path.suffix in PLOT_SUFFIXES and path not in written:
                path.unlink()


def _config_rows(run: RunData) -> list[tuple[str, str]]:
    rows = [(str(k), json.dumps(v, sort_keys=True)) for k, v in (run.info.get("config") or {}).items()]
    rows += [(f"{k} version", json.dumps(v)) for k, v in (run.info.get("versions") or {}).items()]
    return [(k, scrub_paths(v)) for k, v in rows]


def write_report(run: RunData, out: Path, max_comparisons: int = 8) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    boards = build_boards(run)
    sections, written = [], set()
    for index, (board, stem) in enumerate(zip(boards, plot_stems(boards))):
        slug = group_slug(index, board)
        section = Section(board=board, slug=slug)
        plots = board_plots(board, out / "plots", stem)
        written |= {p for f in plots for p in (f.png, f.svg, f.pdf) if p}
        section.plots = [_relative(p, out) for p in plots]
        section.comparisons, section.crops_kept = _comparisons(run, board, out, slug, max_comparisons)
        section.image_metrics, section.rows = _image_rows(run, board)
        section.tests = _tests(board)
        section.absent = {k: scrub_paths(v) for k, v in run.absent_at(board.scale, board.methods).items()
                          if k not in run.methods_without_results()}
        sections.append(section)
    across = []
    for dataset in dict.fromkeys(b.dataset for b in boards):
        group = [b for b in boards if b.dataset == dataset]
        plots = scale_plots(group, out / "plots", safe_name(dataset))
        written |= {p for f in plots for p in (f.png, f.svg, f.pdf) if p}
        if plots:
            across.append({"dataset": dataset, "plots": [_relative(p, out) for p in plots]})
    _remove_stale_plots(out / "plots", written)

    metrics = list(dict.fromkeys(run.metrics))
    context = {
        # the run's own folder name (a report folder re-rendered from copied tables still names its run)
        "run_name": Path(str((run.info.get("config") or {}).get("out") or run.root.resolve())).name
        or run.root.resolve().name,
        "sections": sections,
        "across": across,
        "arrows": {m: arrow(run.higher_is_better(m)) for m in metrics},
        "descriptions": {m: run.description(m) for m in metrics},
        "without_results": {k: scrub_paths(v) for k, v in run.methods_without_results().items()},
        "n_errors": len(run.errors),
        "config": _config_rows(run),
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
