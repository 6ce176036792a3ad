"""Paired significance test between two methods' per-image values (as the SRGAN paper tests MOS)."""
from __future__ import annotations

import warnings

import numpy as np
from scipy import stats


def wilcoxon_p(a: np.ndarray, b: np.ndarray) -> float | None:
    """Two-sided Wilcoxon signed-rank p-value for paired samples; None when there is nothing to test.

    Pairs with a non-finite value on either side are dropped. Identical samples give p = 1: there is
    no evidence of a difference (scipy refuses the all-zero case instead of answering it).
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    keep = np.isfinite(a) & np.isfinite(b)
    diff = a[keep] - b[keep]
    if diff.size == 0:
        return None
    if not np.any(diff):
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small-sample and tie warnings: the p-value is still what we show
        result = stats.wilcoxon(a[keep], b[keep], alternative="two-sided")
    p = float(result.pvalue)
    return p if np.isfinite(p) else None
