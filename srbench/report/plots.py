"""Perception-distortion plots (Blau & Michaeli; PIRM-2018 regions) with matplotlib's Agg backend.

PI needs Ma et al.'s model; when the run has no PI values the plot uses NIQE instead and says so on the
figure. A PI is never recomputed here from NIQE alone.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)
import numpy as np  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from .leaderboard import Board  # noqa: E402

# PIRM-2018 challenge regions, by RMSE on Y: R1 <= 11.5 < R2 <= 12.5 < R3 <= 16.
PIRM_REGIONS = [(0.0, 11.5, "PIRM Region 1: RMSE ≤ 11.5", "#2ca02c"),
                (11.5, 12.5, "PIRM Region 2: 11.5 < RMSE ≤ 12.5", "#ff7f0e"),
                (12.5, 16.0, "PIRM Region 3: 12.5 < RMSE ≤ 16", "#1f77b4")]
PERCEPTUAL_CHOICES = ["pi", "niqe_pirm", "niqe"]


@dataclass
class PlotFiles:
    title: str
    png: Path
    svg: Path
    note: str = ""


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


def _points(board: Board, x_metric: str, y_metric: str):
    names, xs, ys = [], [], []
    for method in board.methods:
        x, y = board.cell(method, x_metric).value, board.cell(method, y_metric).value
        if np.isfinite(x) and np.isfinite(y):
            names.append(method)
            xs.append(x)
            ys.append(y)
    return names, np.asarray(xs, np.float64), np.asarray(ys, np.float64)


# Label positions tried in turn (offset in points, alignment): beside, above and below the point.
_LABEL_SPOTS = [((7, 4), "left", "bottom"), ((7, -4), "left", "top"), ((-7, 4), "right", "bottom"),
                ((-7, -4), "right", "top"), ((0, 8), "center", "bottom"), ((0, -8), "center", "top")]


def _label_points(ax, names, xs, ys):
    """Name each point at the first spot where the label overlaps no other label or point and stays
    inside the axes (greedy, over a handful of methods), else at the least crowded spot. Call after
    the layout is final: overlaps are measured in display space. parse_math=False keeps a method name
    holding '$' as literal text."""
    renderer = ax.figure.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    centres = ax.transData.transform(np.column_stack([xs, ys]))
    taken = [Bbox.from_bounds(cx - 4, cy - 4, 8, 8) for cx, cy in centres]
    legend = ax.get_legend()
    if legend is not None:
        # Freeze the legend where loc="best" put it (it would move again at save time) and keep labels off it.
        ax.figure.canvas.draw()
        box = legend.get_window_extent(renderer)
        corner = ax.transAxes.inverted().transform((box.x0, box.y0))
        legend.set_bbox_to_anchor(tuple(corner), transform=ax.transAxes)
        legend.set_loc("lower left")
        legend.borderaxespad = 0.0
        taken.append(box)
    for name, x, y, (cx, _) in zip(names, xs, ys, centres):
        spots = _LABEL_SPOTS if cx <= inside.x0 + inside.width / 2 else _LABEL_SPOTS[2:4] + _LABEL_SPOTS[:2] + _LABEL_SPOTS[4:]
        best = None
        for offset, ha, va in spots:
            label = ax.annotate(name, (x, y), xytext=offset, textcoords="offset points", fontsize=9, ha=ha,
                                va=va, parse_math=False,
                                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.75))
            box = label.get_window_extent(renderer)
            clashes = sum(box.overlaps(t) for t in taken) + (0 if inside.contains(box.x0, box.y0)
                                                             and inside.contains(box.x1, box.y1) else 1)
            if best is None or clashes < best[0]:
                if best is not None:
                    best[1].remove()
                best = (clashes, label, box)
            else:
                label.remove()
            if clashes == 0:
                break
        taken.append(best[2])


def _draw_front(ax, xs, ys):
    # Ringed markers keep a one-point front visible; the dashed line joins the front's methods.
    ax.plot(xs, ys, "--o", color="#555555", lw=1.2, markersize=11, markerfacecolor="none",
            label="Pareto front", zorder=2)


def _save(fig, stem: Path) -> tuple[Path, Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    fig.savefig(png, dpi=120, metadata={"Software": None})
    # stable ids make re-runs give identical SVGs; text stays text (searchable, smaller)
    with matplotlib.rc_context({"svg.hashsalt": "srbench", "svg.fonttype": "none"}):
        fig.savefig(svg, metadata={"Date": None})
    plt.close(fig)
    return png, svg


def _finish(fig, ax, points, title: str, xlabel: str, ylabel: str, note: str, stem: Path,
            plot_title: str) -> PlotFiles:
    """Axis text, legend, the stand-in note under the axes, point labels once the layout is fixed, then
    PNG and SVG."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, parse_math=False)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8, framealpha=0.9)
    if note:
        fig.text(0.5, 0.01, note, ha="center", va="bottom", fontsize=9, color="#b00020", parse_math=False)
    fig.tight_layout(rect=(0, 0.04 if note else 0, 1, 1))
    _label_points(ax, *points)
    png, svg = _save(fig, stem)
    return PlotFiles(title=plot_title, png=png, svg=svg, note=note)


def _scatter(board: Board, x_metric: str, y_metric: str, y_higher_better: bool, colour: str):
    """Figure with the methods' points and their Pareto front; None when no method has both values."""
    names, xs, ys = _points(board, x_metric, y_metric)
    if not names:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    front = pareto_front(xs, -ys if y_higher_better else ys)
    _draw_front(ax, xs[front], ys[front])
    ax.scatter(xs, ys, s=36, color=colour, zorder=3)
    ax.margins(x=0.08, y=0.12)  # room for labels next to the outermost points
    return fig, ax, names, xs, ys


def perception_distortion(board: Board, stem: Path) -> PlotFiles | None:
    """Perceptual index (or NIQE stand-in) against RMSE, PIRM regions shaded, Pareto front drawn."""
    y_metric, note = perceptual_metric(board)
    made = _scatter(board, "rmse", y_metric, False, "#d62728") if y_metric and "rmse" in board.metrics else None
    if made is None:
        return None
    fig, ax, names, xs, ys = made
    for lo, hi, label, colour in PIRM_REGIONS:
        ax.axvspan(lo, hi, color=colour, alpha=0.12, lw=0, label=label)
    # Show all three regions, and every point with some room for its label.
    x_hi = max(16.5, float(xs.max()) + 1.0)
    ax.set_xlim(max(0.0, min(10.5, float(xs.min()) - 0.06 * (x_hi - float(xs.min())))), x_hi)
    name = "PI" if y_metric == "pi" else y_metric.upper()
    return _finish(fig, ax, (names, xs, ys), f"Perception–distortion: {board.dataset} ×{board.scale}", "RMSE on Y (lower is better)",
                   f"{name} (lower is better)", note, stem, f"{name} vs RMSE")


def psnr_vs_perceptual(board: Board, stem: Path) -> PlotFiles | None:
    """PSNR against the perceptual index (or NIQE stand-in); front = low PI with high PSNR."""
    x_metric, note = perceptual_metric(board)
    made = _scatter(board, x_metric, "psnr_y", True, "#1f77b4") if x_metric and "psnr_y" in board.metrics else None
    if made is None:
        return None
    fig, ax, names, xs, ys = made
    name = x_metric.upper()
    return _finish(fig, ax, (names, xs, ys), f"PSNR vs {name}: {board.dataset} ×{board.scale}", f"{name} (lower is better)",
                   "PSNR on Y, dB (higher is better)", note, stem, f"PSNR vs {name}")


def board_plots(board: Board, out_dir: Path, slug: str) -> list[PlotFiles]:
    made = [perception_distortion(board, out_dir / f"pd_{slug}"),
            psnr_vs_perceptual(board, out_dir / f"psnr_pi_{slug}")]
    return [p for p in made if p is not None]
