"""Refit the ClusterPrior codebook of srbench/segmentation.py on the training sets (T91 + General100).

    SRBENCH_DATA=../shared/datasets python methods/spsagan/fit_codebook.py

prints the centres to paste into `DEFAULT_CODEBOOK`; run once, the codebook is frozen in the code so
that class k means the same thing for every checkpoint trained with it.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from srbench.imageio import read_image
from srbench.segmentation import fit_codebook


def main() -> int:
    root = Path(os.environ.get("SRBENCH_DATA", "../shared/datasets"))
    paths = sorted((root / "T91" / "HR").glob("*.png")) + sorted((root / "General100" / "HR").glob("*.png"))
    if not paths:
        print(f"no training images under {root}", file=sys.stderr)
        return 2
    codebook = fit_codebook(read_image(p) for p in paths)
    np.set_printoptions(precision=4, suppress=True)
    for row in codebook:
        print("    [" + ", ".join(f"{v:.4f}" for v in row) + "],")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
