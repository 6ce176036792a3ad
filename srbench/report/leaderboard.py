"""Leaderboard tables: one per dataset x scale, best and second best per metric, Wilcoxon p vs the best."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .rundata import RunData
from .stats import wilcoxon_p

SIGNIFICANCE = 0.05


@dataclass
class Cell:
    value: float
    rank: int | None = None        # 1 = best, 2 = second best, None otherwise
    p_value: float | None = None   # Wilcoxon vs the best method on this metric; None for the best itself

    @property
    def text(self) -> str:
        return format_value(self.value)

    @property
    def indistinguishable(self) -> bool:
        """Not the best, yet not significantly different from it over the dataset's images."""
        return self.rank != 1 and self.p_value is not None and self.p_value >= SIGNIFICANCE


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

    @property
    def title(self) -> str:
        return f"{self.dataset} x{self.scale}"

    def cell(self, method: str, metric: str) -> Cell:
        return self.cells.get((method, metric), Cell(float("nan")))


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


def _paired(per_image: pd.DataFrame, metric: str, a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
    table = per_image.pivot_table(index="image", columns="method", values=metric, aggfunc="first", dropna=False)
    if a not in table.columns or b not in table.columns:
        return np.empty(0), np.empty(0)
    return table[a].to_numpy(np.float64), table[b].to_numpy(np.float64)


def build_board(run: RunData, dataset: str, scale: int) -> Board:
    summary = run.summary[(run.summary["dataset"] == dataset) & (run.summary["scale"] == scale)]
    per_image = run.per_image[(run.per_image["dataset"] == dataset) & (run.per_image["scale"] == scale)]
    metrics = [m for m in run.metrics if summary[m].notna().any()]
    board = Board(dataset=dataset, scale=scale, metrics=metrics,
                  methods=list(dict.fromkeys(summary["method"].tolist())),
                  directions={m: run.higher_is_better(m) for m in metrics},
                  n_images=int(per_image["image"].nunique()))
    for metric in metrics:
        values = {str(r.method): float(r.value) for r in
                  summary[["method", metric]].rename(columns={metric: "value"}).itertuples(index=False)}
        ranks = rank_values(values, board.directions[metric])
        best = next((m for m in board.methods if ranks.get(m) == 1), None)
        if best is not None:
            board.best[metric] = best
        for method, value in values.items():
            p = None
            if best is not None and method != best and metric in per_image.columns:
                p = wilcoxon_p(*_paired(per_image, metric, method, best))
            board.cells[(method, metric)] = Cell(value=value, rank=ranks.get(method), p_value=p)
    return board


def build_boards(run: RunData) -> list[Board]:
    return [build_board(run, dataset, scale) for dataset, scale in run.groups()]
