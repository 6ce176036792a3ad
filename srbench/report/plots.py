"""Figures of a run with matplotlib's Agg backend: perception-distortion plots (Blau & Michaeli; PIRM-2018
regions where they are defined), PSNR against the perceptual index, and PSNR across scales.

PI needs Ma et al.'s model; when the run has no PI values the plots use NIQE (PIRM protocol first) instead
and say so on the figure. A PI is never recomputed here from NIQE alone. Points are coloured and shaped by
the provenance of the method's weights; a method that lacks some images is drawn hollow with its count.
Every figure is written as PNG (the HTML report), SVG and PDF (papers, LaTeX).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from .leaderboard import Board  # noqa: E402
from .rundata import UNKNOWN_PROVENANCE  # noqa: E402

# PIRM-2018 challenge regions, by RMSE on Y: R1 <= 11.5 < R2 <= 12.5 < R3 <= 16. The challenge defined them
# for x4 on its self-validation set, so they are drawn only at x4.
PIRM_SCALE = 4
PIRM_REGIONS = [(0.0, 11.5, "PIRM Region 1: RMSE ≤ 11.5", "#2ca02c"),
                (11.5, 12.5, "PIRM Region 2: 11.5 < RMSE ≤ 12.5", "#ff7f0e"),
                (12.5, 16.0, "PIRM Region 3: 12.5 < RMSE ≤ 16", "#1f77b4")]
PIRM_CAPTION = "PIRM regions are defined for ×4 on the PIRM self-validation set; shown here for comparison only"
PERCEPTUAL_CHOICES = ["pi", "niqe_pirm", "niqe"]
AXIS_NAMES = {"pi": "PI", "niqe_pirm": "NIQE (PIRM protocol)", "niqe": "NIQE", "rmse": "RMSE on Y",
              "psnr_y": "PSNR on Y, dB"}
# provenance -> (colour, marker); colour-blind-safe Okabe-Ito colours, shapes tell them apart in greyscale
PROVENANCE_STYLE = {"published weights": ("#0072B2", "o"), "srbench-trained surrogate": ("#D55E00", "s"),
                    "user checkpoint": ("#CC79A7", "D"), "baseline": ("#555555", "^"),
                    UNKNOWN_PROVENANCE: ("#009E73", "v")}
DPI = 120
POINT_RADIUS_PT = 4.0


@dataclass
class PlotFiles:
    title: str
    png: Path
    svg: Path
    pdf: Path | None = None
    note: str = ""
    caption: str = ""


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-")[:40] or "dataset"


def perceptual_metric(board: Board) -> tuple[str | None, str]:
    """The perceptual axis to plot and a note when it is a stand-in for PI."""
    available = [m for m in PERCEPTUAL_CHOICES if m in board.metrics]
    if not available:
        return None, "no PI or NIQE values in this run"
    chosen = available[0]
    if chosen == "pi":
        return chosen, ""
    return chosen, f"PI unavailable (Ma et al. model not resolved): showing {chosen.upper()} instead of PI"


def pareto_front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of points not dominated when both x and y are to be minimised, ordered by x."""
    order = np.lexsort((y, x))
    front, best_y = [], math.inf
    for i in order:  # one pass over the methods (a handful), not over pixels
        if y[i] < best_y:
            front.append(i)
            best_y = y[i]
    return np.asarray(front, dtype=int)


def style(provenance: str) -> tuple[str, str]:
    return PROVENANCE_STYLE.get(provenance, PROVENANCE_STYLE[UNKNOWN_PROVENANCE])


def _points(board: Board, x_metric: str, y_metric: str):
    names, xs, ys = [], [], []
    for method in board.methods:
        x, y = board.cell(method, x_metric).value, board.cell(method, y_metric).value
        if np.isfinite(x) and np.isfinite(y):
            names.append(method)
            xs.append(x)
            ys.append(y)
    return names, np.asarray(xs, np.float64), np.asarray(ys, np.float64)


def point_label(board: Board, method: str) -> str:
    cov = board.method_coverage(method)
    return f"{method} ({cov})" if cov else method


# ------------------------------------------------------------------ label placement

def _candidate_offsets() -> list[tuple[float, float]]:
    """Offsets (points) tried in turn: right, left, above, below, the diagonals, then further out."""
    directions = [(1, 0.35), (-1, 0.35), (1, -0.35), (-1, -0.35), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1),
                  (-1, -1)]
    return [(dx * r, dy * r) for r in (7, 16, 28, 42, 60) for dx, dy in directions]


def _alignment(dx: float, dy: float) -> tuple[str, str]:
    ha = "left" if dx > 0 else "right" if dx < 0 else "center"
    va = "bottom" if dy > 0 else "top" if dy < 0 else "center"
    return ha, va


def point_boxes(ax, xs, ys) -> list[Bbox]:
    """Display-space boxes of the plotted markers (radius POINT_RADIUS_PT)."""
    r = POINT_RADIUS_PT * ax.figure.dpi / 72
    return [Bbox.from_bounds(cx - r, cy - r, 2 * r, 2 * r)
            for cx, cy in ax.transData.transform(np.column_stack([xs, ys]))]


def text_box(label, renderer) -> Bbox:
    """The label's text box in display space, without its leader line (an Annotation's own extent
    includes the line, which reaches its point by design), padded by its white background."""
    label.update_positions(renderer)  # an Annotation places its text only when drawn or asked to
    return Text.get_window_extent(label, renderer).padded(1.5)


def label_points(ax, labels: list[str], xs, ys, avoid: list[Bbox] = ()) -> list:
    """Name each point at the first candidate spot whose label box overlaps no other label, no point and
    nothing in `avoid`, and stays inside the axes; labels away from their point get a thin leader line.
    Greedy over the methods, most crowded point first. Call once the layout is final: boxes are measured
    in display space. parse_math=False keeps a name holding '$' as literal text."""
    renderer = ax.figure.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    points = point_boxes(ax, xs, ys)
    taken = list(points) + list(avoid)
    centres = np.array([[b.x0 + b.width / 2, b.y0 + b.height / 2] for b in points]).reshape(-1, 2)
    # crowded points first: they have the fewest free spots
    crowd = [int(np.sum(np.hypot(*(centres - c).T) < 60)) for c in centres]
    order = sorted(range(len(labels)), key=lambda i: (-crowd[i], i))
    placed = [None] * len(labels)
    for i in order:
        best = None
        for dx, dy in _candidate_offsets():
            ha, va = _alignment(dx, dy)
            far = math.hypot(dx, dy) > 10
            text = ax.annotate(labels[i], (xs[i], ys[i]), xytext=(dx, dy), textcoords="offset points",
                               fontsize=8.5, ha=ha, va=va, parse_math=False, zorder=5,
                               bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.8),
                               arrowprops=dict(arrowstyle="-", lw=0.6, color="#777777", shrinkA=0, shrinkB=4)
                               if far else None)
            box = text_box(text, renderer)
            fits = inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1
            clashes = sum(box.overlaps(t) for t in taken) + (0 if fits else 100)
            if best is None or clashes < best[0]:
                if best is not None:
                    best[1].remove()
                best = (clashes, text, box)
            else:
                text.remove()
            if clashes == 0:
                break
        taken.append(best[2])
        placed[i] = best[1]
    return placed


# ------------------------------------------------------------------ figures

def _new_figure():
    fig, ax = plt.subplots(figsize=(8.4, 5.0), dpi=DPI)
    fig.subplots_adjust(left=0.09, right=0.66, top=0.92, bottom=0.2)  # legend sits right of the axes
    return fig, ax


def _legend(ax, handles) -> None:
    # Outside the axes: a legend can then never cover a point or a label.
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=8,
              frameon=False)


def _provenance_handles(provenances) -> list:
    handles = []
    for prov in dict.fromkeys(provenances):
        colour, marker = style(prov)
        handles.append(Line2D([], [], ls="none", marker=marker, color=colour, markersize=7, label=prov))
    return handles


def _fit_axes(ax, xs, ys) -> None:
    """Limits around the data with room for labels (never forced out to fixed region edges)."""
    for values, setter in ((xs, ax.set_xlim), (ys, ax.set_ylim)):
        lo, hi = float(np.min(values)), float(np.max(values))
        span = hi - lo if hi > lo else max(abs(hi) * 0.05, 0.5)
        setter(lo - 0.18 * span, hi + 0.18 * span)


def scatter_figure(board: Board, x_metric: str, y_metric: str, y_higher_better: bool, title: str,
                   notes: list[str], pirm: bool = False):
    """The figure (not saved) of one metric pair: points by provenance, Pareto front, labels placed;
    None when no method has both values. Returns (fig, ax, labels)."""
    names, xs, ys = _points(board, x_metric, y_metric)
    if not names:
        return None
    fig, ax = _new_figure()
    handles = []
    _fit_axes(ax, xs, ys)
    if pirm:
        lo, hi = ax.get_xlim()
        for r_lo, r_hi, label, colour in PIRM_REGIONS:
            if r_lo < hi and r_hi > lo:
                ax.axvspan(max(r_lo, lo), min(r_hi, hi), color=colour, alpha=0.12, lw=0, zorder=0)
                handles.append(plt.Rectangle((0, 0), 1, 1, color=colour, alpha=0.25, label=label))
        ax.set_xlim(lo, hi)
    front = pareto_front(xs, -ys if y_higher_better else ys)
    # rings keep a one-point front visible; the dashed line joins the front's methods
    ax.plot(xs[front], ys[front], "--o", color="#888888", lw=1.0, markersize=11, markerfacecolor="none", zorder=2)
    handles.append(Line2D([], [], ls="--", marker="o", markerfacecolor="none", markersize=8, color="#888888",
                          label="Pareto front"))
    provenances = [board.provenance.get(n, UNKNOWN_PROVENANCE) for n in names]
    for name, x, y, prov in zip(names, xs, ys, provenances):
        colour, marker = style(prov)
        hollow = not board.complete(name)
        ax.scatter([x], [y], s=(2 * POINT_RADIUS_PT) ** 2 * 0.8, marker=marker, zorder=3, linewidths=1.3,
                   facecolors="white" if hollow else colour, edgecolors=colour)
    handles += _provenance_handles(provenances)
    if any(not board.complete(n) for n in names):
        handles.append(Line2D([], [], ls="none", marker="o", markerfacecolor="white", markeredgecolor="#333333",
                              markersize=7, label="hollow: not every image"))
    ax.set_xlabel(f"{AXIS_NAMES.get(x_metric, x_metric)} ({'lower' if x_metric != 'psnr_y' else 'higher'} is better)")
    ax.set_ylabel(f"{AXIS_NAMES.get(y_metric, y_metric)} ({'higher' if y_higher_better else 'lower'} is better)")
    ax.set_title(title, parse_math=False, fontsize=11)
    ax.grid(alpha=0.3, zorder=1)
    _legend(ax, handles)
    for k, note in enumerate(notes):
        fig.text(0.02, 0.075 - 0.045 * k, note, ha="left", va="bottom", fontsize=8,
                 color="#b00020" if note.startswith("PI unavailable") else "#333333", parse_math=False, wrap=True)
    labels = label_points(ax, [point_label(board, n) for n in names], xs, ys)
    return fig, ax, labels


def pd_figure(board: Board):
    """Perceptual index (or NIQE stand-in) against RMSE; PIRM regions at x4 only."""
    y_metric, note = perceptual_metric(board)
    if not y_metric or "rmse" not in board.metrics:
        return None
    # Regions only where defined (x4) and only when some method lies in one (RMSE <= 16).
    _, xs, _ = _points(board, "rmse", y_metric)
    pirm = board.scale == PIRM_SCALE and xs.size > 0 and float(xs.min()) <= PIRM_REGIONS[-1][1]
    notes = [n for n in (note, PIRM_CAPTION if pirm else "") if n]
    name = AXIS_NAMES.get(y_metric, y_metric)
    made = scatter_figure(board, "rmse", y_metric, False, f"Perception–distortion: {board.dataset} ×{board.scale}",
                          notes, pirm=pirm)
    return None if made is None else (*made, y_metric, note, pirm, name)


def psnr_figure(board: Board):
    """PSNR against the perceptual index (or NIQE stand-in); front = low PI with high PSNR."""
    x_metric, note = perceptual_metric(board)
    if not x_metric or "psnr_y" not in board.metrics:
        return None
    name = AXIS_NAMES.get(x_metric, x_metric)
    made = scatter_figure(board, x_metric, "psnr_y", True, f"PSNR vs {name}: {board.dataset} ×{board.scale}",
                          [note] if note else [])
    return None if made is None else (*made, x_metric, note, name)


def save_figure(fig, stem: Path) -> tuple[Path, Path, Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg, pdf = (stem.parent / f"{stem.name}.{ext}" for ext in ("png", "svg", "pdf"))
    fig.savefig(png, dpi=DPI, metadata={"Software": None})
    # stable ids make re-runs give identical SVGs; text stays text (searchable, smaller)
    with matplotlib.rc_context({"svg.hashsalt": "srbench", "svg.fonttype": "none"}):
        fig.savefig(svg, metadata={"Date": None})
    fig.savefig(pdf, metadata={"CreationDate": None, "ModDate": None, "Producer": None})
    plt.close(fig)
    return png, svg, pdf


def board_plots(board: Board, out_dir: Path, stem: str) -> list[PlotFiles]:
    """The figures of one dataset x scale; file names say what is plotted, e.g.
    pd_niqe_pirm-vs-rmse_Set5_x4 and psnr_y-vs-niqe_pirm_Set5_x4 (`stem` is 'Set5_x4')."""
    made = []
    pd_made = pd_figure(board)
    if pd_made is not None:
        fig, _, _, y_metric, note, pirm, name = pd_made
        files = save_figure(fig, out_dir / f"pd_{y_metric}-vs-rmse_{stem}")
        made.append(PlotFiles(f"{name} vs RMSE", *files, note=note, caption=PIRM_CAPTION if pirm else ""))
    psnr_made = psnr_figure(board)
    if psnr_made is not None:
        fig, _, _, x_metric, note, name = psnr_made
        files = save_figure(fig, out_dir / f"psnr_y-vs-{x_metric}_{stem}")
        made.append(PlotFiles(f"PSNR vs {name}", *files, note=note))
    return made


def scale_figure(boards: list[Board], metric: str = "psnr_y"):
    """One dataset's metric across scales, a line per method (for multi-scale runs); None if < 2 scales."""
    boards = sorted((b for b in boards if metric in b.metrics), key=lambda b: b.scale)
    if len(boards) < 2:
        return None
    fig, ax = _new_figure()
    methods = list(dict.fromkeys(m for b in boards for m in b.methods))
    palette = plt.get_cmap("tab20" if len(methods) > 10 else "tab10")
    for k, method in enumerate(methods):
        pts = [(b.scale, b.cell(method, metric).value, b.complete(method)) for b in boards
               if np.isfinite(b.cell(method, metric).value)]
        if not pts:
            continue
        prov = boards[0].provenance.get(method) or next((b.provenance[method] for b in boards
                                                         if method in b.provenance), UNKNOWN_PROVENANCE)
        _, marker = style(prov)
        colour = palette(k % palette.N)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "-", color=colour, lw=1.2, zorder=2,
                label=f"{method} ({prov})")
        for s, v, full in pts:
            ax.scatter([s], [v], marker=marker, s=40, zorder=3, linewidths=1.2, edgecolors=colour,
                       facecolors=colour if full else "white")
    scales = [b.scale for b in boards]
    ax.set_xscale("log", base=2)
    ax.set_xticks(scales, [f"×{s}" for s in scales])
    ax.minorticks_off()
    ax.set_xlabel("scale factor")
    name = AXIS_NAMES.get(metric, metric)
    ax.set_ylabel(f"{name} (higher is better)")
    ax.set_title(f"{name.split(',')[0]} across scales: {boards[0].dataset}", parse_math=False, fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=8, frameon=False)
    fig.text(0.02, 0.03, "marker shape: provenance of the weights; hollow: not every image", fontsize=8,
             color="#333333")
    return fig, ax


def scale_plots(boards: list[Board], out_dir: Path, stem: str, metric: str = "psnr_y") -> list[PlotFiles]:
    made = scale_figure(boards, metric)
    if made is None:
        return []
    files = save_figure(made[0], out_dir / f"{metric}-vs-scale_{stem}")
    return [PlotFiles(f"{AXIS_NAMES.get(metric, metric)} across scales", *files)]
