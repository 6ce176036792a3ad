"""A small run directory built in a temp folder, in the layout `srbench run` writes, for reporter and gate
tests that must not depend on the runner or on the shared data.

Three methods degrade the same HR images by different amounts (so their PSNRs are ordered by construction),
and one of them is named `<script>alert(1)</script>` to check that names are escaped.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from srbench import matlab
from srbench.imageio import write_png_atomic
from srbench.metrics.fidelity import psnr, ssim_index
from srbench.run_layout import sr_image_path

SCRIPT_NAME = "<script>alert(1)</script>"
SCALE = 4
# name -> noise standard deviation added to HR (0 means: bicubic down/up, a blur rather than noise)
METHODS = {"noisy": 12.0, "bicubic": 0.0, SCRIPT_NAME: 3.0}


def hr_image(seed: int, size: int = 48) -> np.ndarray:
    """A smooth colour pattern with some texture, so bicubic loses detail and noise shows."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = np.stack([np.sin(6 * xx + seed), np.cos(5 * yy - seed), np.sin(4 * (xx + yy))], axis=2)
    texture = rng.normal(0, 0.25, (size, size, 1))
    return matlab.to_uint8((base + texture + 1.5) * 70)


def sr_output(method: str, hr: np.ndarray, seed: int) -> np.ndarray:
    sigma = METHODS[method]
    if sigma == 0:
        return matlab.imresize(matlab.imresize(hr, 1 / SCALE), SCALE)
    rng = np.random.default_rng(1000 + seed + int(sigma))
    return matlab.to_uint8(hr.astype(np.float64) + rng.normal(0, sigma, hr.shape))


def _hr_dir(root: Path, dataset: str) -> Path:
    return root / "data" / dataset / "HR"


def _dataset_rows(root: Path, run: Path, dataset: str, n_images: int, with_pi: bool) -> list[dict]:
    """Write a dataset's HR images and each method's SR outputs; return their per-image rows."""
    rows = []
    for k in range(n_images):
        image = f"img{k:02d}"
        hr = hr_image(k)
        write_png_atomic(_hr_dir(root, dataset) / f"{image}.png", hr)
        hr_y = matlab.rgb2y(hr)
        for method in METHODS:
            sr = sr_output(method, hr, k)
            write_png_atomic(sr_image_path(run, method, dataset, SCALE, image), sr)
            sr_y = matlab.rgb2y(sr)
            inner = (slice(SCALE, -SCALE), slice(SCALE, -SCALE))
            mse = float(np.mean((sr_y[4:-4, 4:-4] - hr_y[4:-4, 4:-4]) ** 2))
            row = {"method": method, "dataset": dataset, "scale": SCALE, "image": image,
                   "psnr_y": psnr(sr_y[inner], hr_y[inner]), "ssim_y": ssim_index(sr_y[inner], hr_y[inner]),
                   "rmse": np.sqrt(mse),
                   # stand-in no-reference scores: noise raises them, blur raises them more
                   "niqe": 3.0 + METHODS[method] / 4 + (2.5 if METHODS[method] == 0 else 0) + 0.1 * k}
            if with_pi:
                row["pi"] = row["niqe"] - 1.0
            rows.append(row)
    return rows


def make_run(root: Path, n_images: int = 6, with_pi: bool = False, datasets: tuple[str, ...] = ("Toy",)) -> Path:
    """Write HR images and a complete run directory under `root`; returns the run directory."""
    run = root / "run"
    per_image = pd.DataFrame([row for dataset in datasets
                              for row in _dataset_rows(root, run, dataset, n_images, with_pi)])
    metrics = [c for c in per_image.columns if c not in ("method", "dataset", "scale", "image")]
    groups = per_image.groupby(["method", "dataset", "scale"], sort=False)
    summary = groups[metrics].mean().reset_index()
    # RMSE's dataset value is the root of the mean MSE (PIRM), not the mean RMSE
    summary["rmse"] = groups["rmse"].apply(lambda r: float(np.sqrt(np.mean(r ** 2)))).to_numpy()
    per_image.to_csv(run / "per_image.csv", index=False, float_format="%.17g")
    summary.to_csv(run / "summary.csv", index=False, float_format="%.17g")
    pd.DataFrame(columns=["method", "dataset", "scale", "image", "error"]).to_csv(run / "errors.csv", index=False)
    directions = {"psnr_y": True, "ssim_y": True, "rmse": False, "niqe": False, "pi": False}
    info = {
        "config": {"methods": list(METHODS), "datasets": list(datasets), "scales": [SCALE], "out": str(run),
                   "degradation": "bicubic"},
        "metrics": {m: {"higher_is_better": directions[m], "description": f"{m} test values"} for m in metrics},
        "datasets": {d: {"root": str(_hr_dir(root, d)), "images": {}} for d in datasets},
        "methods": {**{m: {"identity": m, "status": "ok"} for m in METHODS},
                    "missing-weights": {"identity": "", "status": "skipped", "reason": "weights not found"}},
        "versions": {"srbench": "test"},
    }
    (run / "run.json").write_text(json.dumps(info, indent=2))
    return run
