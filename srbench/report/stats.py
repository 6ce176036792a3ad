"""Paired significance test between two methods' per-image values (as the SRGAN paper tests MOS)."""
from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

SIGNIFICANCE = 0.05


def min_two_sided_p(n: int) -> float:
    """The smallest p-value the exact two-sided signed-rank test can give with n pairs: 2 / 2**n (every
    difference of one sign). With n <= 5 it is >= 0.0625, so no outcome can be significant at 0.05."""
    return min(1.0, 2.0 / 2.0 ** n) if n > 0 else 1.0


def can_decide(n: int, alpha: float = SIGNIFICANCE) -> bool:
    """Whether n paired images can ever give a two-sided Wilcoxon p below alpha."""
    return min_two_sided_p(n) < alpha


def min_decidable_pairs(alpha: float = SIGNIFICANCE) -> int:
    n = 1
    while not can_decide(n, alpha):
        n += 1
    return n


def paired_finite(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs where both sides hold a finite value (the images both methods cover)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    keep = np.isfinite(a) & np.isfinite(b)
    return a[keep], b[keep]


def wilcoxon_p(a: np.ndarray, b: np.ndarray) -> float | None:
    """Two-sided Wilcoxon signed-rank p-value for paired samples; None when there is nothing to test.

    Pairs with a non-finite value on either side are dropped. Identical samples give p = 1: there is
    no evidence of a difference (scipy refuses the all-zero case instead of answering it).
    """
    a, b = paired_finite(a, b)
    diff = a - b
    if diff.size == 0:
        return None
    if not np.any(diff):
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small-sample and tie warnings: the p-value is still what we show
        result = stats.wilcoxon(a, b, alternative="two-sided")
    p = float(result.pvalue)
    return p if np.isfinite(p) else None
