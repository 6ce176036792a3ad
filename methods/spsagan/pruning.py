"""RRDB -> RRSB pruning (paper 002, Sec. 3.2).

For layer l of a dense block (inputs x0 .. x_{l-1}, output x_l) the dissimilarity of x_i (i = 1 .. l-1) is
    DS_{i-l} = ||x_i - x_l||_2 / sum_{p=1}^{l-1} ||x_p - x_l||_2 .
The l-1 values (averaged over the last training iterations) are split into two classes by 1-d k-means;
the connections of the class with the smaller mean are removed, unless the two class means differ by less
than 5 % (then all are kept). x0, the block input, is never a candidate (the measure runs over i >= 1).

srbench interpretation where the paper is silent: the last layer (l = 5) outputs nf channels while x_i has
gc, so for that layer both sides are reduced to their per-pixel channel mean before the norm; "differ by
less than 5 %" is read as (mean_high - mean_low) / mean_high < 0.05; the 1-d two-class k-means is solved
exactly (best split of the sorted values).
"""
from __future__ import annotations

import numpy as np
import torch

from .arch import DENSE_LAYERS, SparseDenseBlock

RELATIVE_GAP = 0.05


def dissimilarities(feats: list[torch.Tensor]) -> dict[int, np.ndarray]:
    """feats = [x0, x1, ..., x5] of one dense block -> {l: DS values for i = 1..l-1} for l >= 2."""
    out = {}
    with torch.no_grad():
        for l in range(2, len(feats)):
            target = feats[l]
            dists = []
            for i in range(1, l):
                a, b = feats[i], target
                if a.shape[1] != b.shape[1]:
                    a, b = a.mean(dim=1), b.mean(dim=1)
                dists.append(float((a - b).flatten(1).norm(dim=1).mean()))
            dists = np.array(dists)
            total = dists.sum()
            out[l] = dists / total if total > 0 else np.full(len(dists), 1.0 / len(dists))
    return out


class DissimilarityRecorder:
    """Attach to every dense block of a network; accumulates the mean DS values while `active`."""

    def __init__(self, blocks: list[SparseDenseBlock]):
        self.blocks = blocks
        self.sums = [{} for _ in blocks]
        self.count = [0] * len(blocks)
        self.index = {id(b): k for k, b in enumerate(blocks)}
        self.active = False
        for b in blocks:
            b.recorder = self

    def __call__(self, block: SparseDenseBlock, feats: list[torch.Tensor]) -> None:
        if not self.active:
            return
        k = self.index[id(block)]
        for l, ds in dissimilarities(feats).items():
            self.sums[k][l] = self.sums[k].get(l, 0.0) + ds
        self.count[k] += 1

    def means(self) -> list[dict[int, np.ndarray]]:
        if not all(self.count):
            raise RuntimeError("no dissimilarities recorded yet")
        return [{l: s / n for l, s in sums.items()} for sums, n in zip(self.sums, self.count)]

    def detach(self) -> None:
        for b in self.blocks:
            b.recorder = None


def two_means_1d(values: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Exact two-class k-means of 1-d values: (mask of the low class, low mean, high mean)."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    v = values[order]
    best = None
    for split in range(1, len(v)):
        lo, hi = v[:split], v[split:]
        sse = ((lo - lo.mean()) ** 2).sum() + ((hi - hi.mean()) ** 2).sum()
        if best is None or sse < best[0] - 1e-15:
            best = (sse, split)
    split = best[1]
    low = np.zeros(len(v), dtype=bool)
    low[order[:split]] = True
    return low, float(v[:split].mean()), float(v[split:].mean())


def prune_layer(ds: np.ndarray, relative_gap: float = RELATIVE_GAP) -> list[int]:
    """DS values of inputs x1..x_{l-1} -> indices (1-based) of the inputs to remove."""
    if len(ds) < 2:
        return []
    low, lo_mean, hi_mean = two_means_1d(ds)
    if hi_mean <= 0 or (hi_mean - lo_mean) / hi_mean < relative_gap:
        return []
    return [i + 1 for i in np.flatnonzero(low)]


def prune_pattern(block_ds: dict[int, np.ndarray]) -> tuple[tuple[int, ...], ...]:
    """One dense block's mean DS values -> its kept-input pattern (x0 always kept)."""
    pattern = []
    for l in range(1, DENSE_LAYERS + 1):
        removed = set(prune_layer(block_ds[l])) if l in block_ds else set()
        pattern.append(tuple(i for i in range(l) if i not in removed))
    return tuple(pattern)


def count_connections(patterns) -> int:
    return sum(len(kept) for pattern in patterns for kept in pattern)
