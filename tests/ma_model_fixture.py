"""A synthetic Ma et al. model in the canonical `model.mat` format (randomforest-matlab regression forests).

The trained model is not available on these machines; these random forests exercise the loader and
the forest evaluation with the same struct layout (`model.rf{1..3}` with lDau, rDau, nodestatus,
nrnodes, upper, avnode, mbest, ndtree, ntree, coef; `model.linear` 4x1).
"""
from __future__ import annotations

import numpy as np
import scipy.io

FEATURE_DIMS = (18, 45, 75)


def random_forest_struct(rng: np.random.Generator, n_features: int, ntree: int = 7, depth: int = 5,
                         coef=(0.0, 0.0), max_nodes: int | None = None) -> dict:
    """Random trees, nodes numbered in the order they are created (as randomForest's regTree does)."""
    nrnodes = max_nodes or 2 ** (depth + 1) - 1
    shape = (nrnodes, ntree)
    left, right = np.zeros(shape, np.int32), np.zeros(shape, np.int32)
    status, mbest = np.zeros(shape, np.int32), np.zeros(shape, np.int32)
    upper, avnode = np.zeros(shape), rng.normal(5.0, 2.0, shape)
    for t in range(ntree):
        todo, used = [(1, 0)], 1  # (1-based node id, depth)
        while todo:
            node, d = todo.pop(0)
            i = node - 1
            if d == depth or used + 2 > nrnodes or (d > 1 and rng.random() < 0.25):
                status[i, t] = -1  # terminal
                continue
            status[i, t] = -3  # interior
            left[i, t], right[i, t] = used + 1, used + 2
            used += 2
            mbest[i, t] = rng.integers(1, n_features + 1)
            upper[i, t] = rng.normal(0.0, 1.0)
            todo += [(left[i, t], d + 1), (right[i, t], d + 1)]
    return {"lDau": left, "rDau": right, "nodestatus": status, "nrnodes": float(nrnodes), "upper": upper,
            "avnode": avnode, "mbest": mbest, "ndtree": np.full((ntree, 1), float(nrnodes)),
            "ntree": float(ntree), "coef": np.array([[coef[0]], [coef[1]]])}


def write_model(path, seed: int = 0, linear=(1.0, 0.5, 0.3, 0.2), coef=(0.0, 0.0), **forest_kw) -> list[dict]:
    """Write a model.mat; `forest_kw` (ntree, depth, max_nodes) sizes the forests, e.g. the real
    model's 2000 trees per forest (train_RF_regression.m) for timing."""
    rng = np.random.default_rng(seed)
    forests = [random_forest_struct(rng, n, coef=coef, **forest_kw) for n in FEATURE_DIMS]
    cell = np.empty((1, 3), dtype=object)
    for i, f in enumerate(forests):
        cell[0, i] = f
    scipy.io.savemat(str(path), {"model": {"rf": cell, "linear": np.array(linear, float).reshape(4, 1)}})
    return forests


def walk_tree(forest: dict, t: int, x: np.ndarray) -> float:
    """Reference: one tree walked node by node, as predictRegTree in randomForest's C code."""
    k = 0
    while forest["nodestatus"][k, t] != -1:
        m = forest["mbest"][k, t] - 1
        k = (forest["lDau"][k, t] if x[m] <= forest["upper"][k, t] else forest["rDau"][k, t]) - 1
    return float(forest["avnode"][k, t])


def ma_by_hand(forests, linear, feats) -> float:
    """quality_predict: linear(1) + sum linear(i+1) * (mean over trees of forest i), trees walked node by node."""
    parts = (feats.local_freq, feats.global_freq, feats.spatial)
    s = [np.mean([walk_tree(f, t, x) for t in range(f["lDau"].shape[1])]) for f, x in zip(forests, parts)]
    return float(linear[0] + linear[1] * s[0] + linear[2] * s[1] + linear[3] * s[2])


def hide_ma_model(monkeypatch, tmp_path) -> None:
    """Make sure no Ma model resolves: no explicit path, empty shared folder and cache, no download."""
    monkeypatch.delenv("SRBENCH_MA_MODEL", raising=False)
    monkeypatch.setenv("SRBENCH_SHARED", str(tmp_path))
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
