"""The run's summary.csv is each metric's own dataset-level definition applied to per_image.csv.

Checked at the level of the files `srbench run` writes, so that it holds whatever the runner's internals
look like: PSNR and SSIM are the mean over the images, RMSE is PIRM-2018's sqrt(mean(MSE)) (which is not
the mean of the per-image RMSEs when they differ).
"""
import numpy as np
import pandas as pd
import pytest

from srbench.cli import main
from srbench.imageio import write_png_atomic

# metric -> its dataset-level value from the per-image values, as the metric's definition states it
AGGREGATES = {
    "psnr_y": lambda v: np.mean(v),
    "ssim_y": lambda v: np.mean(v),
    "rmse": lambda v: np.sqrt(np.mean(v ** 2)),
}


def test_summary_is_each_metrics_aggregate_of_per_image(tmp_path, monkeypatch):
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(3)
    for i, (shape, noise) in enumerate([((48, 40), 5), ((37, 53), 30), ((44, 44), 70)]):
        smooth = np.add.outer(np.arange(shape[0]), np.arange(shape[1]))[..., None] * np.array([2, 3, 1])
        pixels = np.clip(smooth % 200 + rng.normal(0, noise, shape + (3,)), 0, 255).round().astype(np.uint8)
        write_png_atomic(tmp_path / "data" / "Tiny" / "HR" / f"im{i}.png", pixels)
    out = tmp_path / "run"
    assert main(["run", "--methods", "bicubic", "--datasets", "Tiny", "--data-root", str(tmp_path / "data"),
                 "--scale", "2,4", "--metrics", ",".join(AGGREGATES), "--out", str(out),
                 "--no-report", "--quiet"]) == 0
    per_image = pd.read_csv(out / "per_image.csv")
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 2 and len(per_image) == 6
    for _, row in summary.iterrows():
        images = per_image[(per_image.method == row.method) & (per_image.dataset == row.dataset)
                           & (per_image.scale == row.scale)]
        assert len(images) == 3
        for metric, aggregate in AGGREGATES.items():
            values = images[metric].to_numpy(dtype=np.float64)
            assert row[metric] == pytest.approx(aggregate(values), rel=1e-13), (metric, row.scale)
        rmse = images["rmse"].to_numpy()
        assert abs(np.sqrt(np.mean(rmse ** 2)) - np.mean(rmse)) > 1e-3  # the data tells the two apart
