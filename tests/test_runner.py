"""Runner: tables, determinism, run.json, skipped methods."""
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from srbench.runner import RunConfig, run


@pytest.fixture
def tiny_data(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "data" / "Tiny" / "HR"
    root.mkdir(parents=True)
    for i, size in enumerate([(48, 40), (37, 53)]):
        Image.fromarray(rng.integers(0, 256, size + (3,), dtype=np.uint8)).save(root / f"im{i}.png")
    # not a linear ramp: bicubic reproduces one exactly (PSNR inf, a metric failure since issue 14)
    gray = (np.add.outer(np.arange(40) ** 2, np.arange(44)) * 2 % 256).astype(np.uint8)
    Image.fromarray(gray).save(root / "gray.png")
    return tmp_path / "data"


def _config(tmp_path, data, out, **kw):
    base = dict(methods=["bicubic"], datasets=["Tiny"], scales=[2, 4], out=str(tmp_path / out),
                metrics=["psnr_y", "ssim_y", "rmse"], data_root=str(data), progress=False, report=False)
    base.update(kw)
    return RunConfig(**base)


def _register_tiny(monkeypatch, data):
    # A dataset folder without a manifest is resolved from --data-root by name (user datasets).
    monkeypatch.setenv("SRBENCH_DATA", str(data))


def test_tables_and_determinism(tmp_path, tiny_data, monkeypatch):
    _register_tiny(monkeypatch, tiny_data)
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache1"))
    first = run(_config(tmp_path, tiny_data, "a"))
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache2"))
    second = run(_config(tmp_path, tiny_data, "b", use_cache=False))
    for name in ("per_image.csv", "summary.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    per_image = first.per_image
    assert list(per_image.columns) == ["method", "dataset", "scale", "image", "psnr_y", "ssim_y", "rmse"]
    assert len(per_image) == 6 and set(per_image["image"]) == {"im0", "im1", "gray"}
    assert list(first.summary.columns) == ["method", "dataset", "scale", "images", "failed", "psnr_y", "ssim_y",
                                           "rmse"]
    assert list(first.summary["images"]) == [3, 3] and list(first.summary["failed"]) == [0, 0]
    # summary.csv is each metric's dataset value of per_image.csv: mean, except RMSE = sqrt(mean(MSE))
    summary = pd.read_csv(tmp_path / "a" / "summary.csv").set_index("scale")
    table = pd.read_csv(tmp_path / "a" / "per_image.csv")
    for scale in (2, 4):
        values = table[table.scale == scale]
        assert len(values) == 3
        assert summary.loc[scale, "psnr_y"] == pytest.approx(values["psnr_y"].mean(), rel=1e-13)
        assert summary.loc[scale, "ssim_y"] == pytest.approx(values["ssim_y"].mean(), rel=1e-13)
        assert summary.loc[scale, "rmse"] == pytest.approx(np.sqrt(np.mean(values["rmse"] ** 2)), rel=1e-13)
        assert abs(summary.loc[scale, "rmse"] - values["rmse"].mean()) > 1e-6
    info = json.loads((tmp_path / "a" / "run.json").read_text())
    assert info["metrics"]["rmse"]["higher_is_better"] is False
    assert set(info["datasets"]["Tiny"]["images"]) == {"im0", "im1", "gray"}
    assert info["methods"]["bicubic"]["status"] == "ok"
    assert (tmp_path / "a" / "sr" / "bicubic" / "Tiny" / "x4" / "gray.png").is_file()
    assert second.exit_code == 0


def test_cached_rerun_gives_identical_tables(tmp_path, tiny_data, monkeypatch):
    _register_tiny(monkeypatch, tiny_data)
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    run(_config(tmp_path, tiny_data, "a"))
    run(_config(tmp_path, tiny_data, "b"))
    assert (tmp_path / "a" / "per_image.csv").read_bytes() == (tmp_path / "b" / "per_image.csv").read_bytes()
