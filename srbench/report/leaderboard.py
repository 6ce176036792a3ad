"""Leaderboard tables: one per dataset x scale, best and second best per metric, Wilcoxon p vs the best.

A method that does not cover every image of the dataset (it failed on some, or a metric failed on some)
is shown with its count ("3/5 images"), never ranked best or second (its mean is over easier images), and
compared with the best only on the images both cover.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .rundata import RunData
from .stats import SIGNIFICANCE, can_decide, min_decidable_pairs, paired_finite, wilcoxon_p

__all__ = ["SIGNIFICANCE", "Board", "Cell", "arrow", "build_board", "build_boards", "format_value", "rank_values"]


@dataclass
class Cell:
    value: float
    rank: int | None = None        # 1 = best, 2 = second best, None otherwise
    p_value: float | None = None   # Wilcoxon vs the best method on this metric; None when not tested
    n_pairs: int = 0               # images both this method and the best cover (the test's sample)
    covered: int = 0               # images with a finite value of this metric
    total: int = 0                 # images of the dataset

    @property
    def text(self) -> str:
        return format_value(self.value)

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.covered >= self.total

    @property
    def coverage(self) -> str:
        """'3/5 images' for an incomplete cell, '' for a complete one."""
        return "" if self.complete or not self.total else f"{self.covered}/{self.total} images"

    @property
    def indistinguishable(self) -> bool:
        """Not the best, yet not significantly different from it over the images both cover."""
        return self.rank != 1 and self.p_value is not None and self.p_value >= SIGNIFICANCE

    @property
    def p_text(self) -> str:
        """The test's outcome for a hover title or the per-image page."""
        if self.p_value is None:
            return ""
        return f"Wilcoxon p={self.p_value:.3g} vs the best over {self.n_pairs} shared images"


@dataclass
class Board:
    dataset: str
    scale: int
    metrics: list[str]
    methods: list[str]
    directions: dict[str, bool | None]
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    best: dict[str, str] = field(default_factory=dict)   # metric -> best method
    n_images: int = 0
    coverage: dict[str, int] = field(default_factory=dict)   # method -> images it produced a result for
    provenance: dict[str, str] = field(default_factory=dict)
    too_few_pairs: bool = False    # some comparison had too few shared images for the test to decide

    @property
    def title(self) -> str:
        return f"{self.dataset} x{self.scale}"

    @property
    def min_pairs(self) -> int:
        return min_decidable_pairs(SIGNIFICANCE)

    def cell(self, method: str, metric: str) -> Cell:
        return self.cells.get((method, metric), Cell(float("nan")))

    def method_coverage(self, method: str) -> str:
        """'3/5 images' when the method lacks some of the dataset's images, else ''."""
        n = self.coverage.get(method, 0)
        return "" if n >= self.n_images else f"{n}/{self.n_images} images"

    def complete(self, method: str) -> bool:
        return not self.method_coverage(method)

    @property
    def counts_differ(self) -> bool:
        return any(not self.complete(m) for m in self.methods)


def format_value(value: float) -> str:
    """Enough decimals to separate methods: 4 for SSIM-like values, 2 for PSNR-like ones."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    magnitude = abs(value)
    decimals = 4 if magnitude < 1.5 else 3 if magnitude < 10 else 2
    return f"{value:.{decimals}f}"


def arrow(higher_is_better: bool | None) -> str:
    return "↑" if higher_is_better else "↓" if higher_is_better is False else ""


def rank_values(values: dict[str, float], higher_is_better: bool | None) -> dict[str, int]:
    """Rank 1 for every method holding the best value, rank 2 for the next distinct value (ties share)."""
    if higher_is_better is None:
        return {}
    finite = {m: v for m, v in values.items() if not math.isnan(v)}
    distinct = sorted(set(finite.values()), reverse=higher_is_better)[:2]
    return {m: distinct.index(v) + 1 for m, v in finite.items() if v in distinct}


def _table(per_image: pd.DataFrame, metric: str, images: list[str]) -> pd.DataFrame:
    """image x method values of one metric over the dataset's images (missing -> NaN)."""
    if metric not in per_image.columns or per_image.empty:
        return pd.DataFrame(index=images)
    table = per_image.pivot_table(index="image", columns="method", values=metric, aggfunc="first", dropna=False)
    return table.reindex(sorted(set(images) | set(table.index)))


def build_board(run: RunData, dataset: str, scale: int) -> Board:
    summary = run.summary[(run.summary["dataset"] == dataset) & (run.summary["scale"] == scale)]
    per_image = run.per_image[(run.per_image["dataset"] == dataset) & (run.per_image["scale"] == scale)]
    metrics = [m for m in run.metrics if summary[m].notna().any()]
    images = run.expected_images(dataset, scale)
    methods = list(dict.fromkeys(summary["method"].tolist()))
    board = Board(dataset=dataset, scale=scale, metrics=metrics, methods=methods,
                  directions={m: run.higher_is_better(m) for m in metrics}, n_images=len(images),
                  provenance={m: run.provenance(m) for m in methods})
    expected = set(images)
    for method in methods:
        rows = per_image[per_image["method"] == method]
        board.coverage[method] = len(set(rows["image"]) & expected)
    for metric in metrics:
        table = _table(per_image, metric, images)
        values = {str(r.method): float(r.value) for r in
                  summary[["method", metric]].rename(columns={metric: "value"}).itertuples(index=False)}
        covered = {m: int(np.isfinite(table[m].reindex(images).to_numpy(np.float64)).sum())
                   if m in table.columns else 0 for m in methods}
        # Only methods with a value on every image compete for best/second: a mean over fewer images is
        # not comparable (the images a method fails on tend to be the hard ones).
        ranks = rank_values({m: v for m, v in values.items() if covered.get(m, 0) >= len(images)},
                            board.directions[metric])
        best = next((m for m in methods if ranks.get(m) == 1), None)
        if best is not None:
            board.best[metric] = best
        for method, value in values.items():
            cell = Cell(value=value, rank=ranks.get(method), covered=covered.get(method, 0), total=len(images))
            if best is not None and method != best and method in table.columns and best in table.columns:
                a, b = paired_finite(table[method].to_numpy(np.float64), table[best].to_numpy(np.float64))
                cell.n_pairs = int(a.size)
                if can_decide(cell.n_pairs):
                    cell.p_value = wilcoxon_p(a, b)
                elif cell.n_pairs:
                    board.too_few_pairs = True
            board.cells[(method, metric)] = cell
    return board


def build_boards(run: RunData) -> list[Board]:
    return [build_board(run, dataset, scale) for dataset, scale in run.groups()]
