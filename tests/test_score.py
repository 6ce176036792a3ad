"""`srbench score` gives the numbers `srbench run` gives for the same SR images."""
from __future__ import annotations

import pandas as pd

import bench_fixtures
from srbench.cli import main

METRICS = "psnr_y,ssim_y,rmse"


def run_then_score(tmp_path, monkeypatch, method: str, scale: int,
                   size=(100, 90)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """per_image.csv of `srbench run`, and the CSV of `srbench score` on the SR images that run saved."""
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    data = bench_fixtures.make_dataset(tmp_path, "Tiny", count=3, size=size)
    bench_fixtures.install(tmp_path / "manifests", monkeypatch.setattr, monkeypatch.setitem)
    assert main(["run", "--methods", method, "--datasets", "Tiny", "--data-root", str(data), "--scale", str(scale),
                 "--metrics", METRICS, "--out", str(tmp_path / "run"), "--quiet", "--no-report"]) == 0
    assert main(["score", str(tmp_path / "run" / "sr" / method / "Tiny" / f"x{scale}"), "--hr",
                 str(data / "Tiny" / "HR"), "--scale", str(scale), "--metrics", METRICS,
                 "--out", str(tmp_path / "score.csv")]) == 0
    scored = pd.read_csv(tmp_path / "score.csv")
    assert scored["image"].iloc[-1] == "mean"  # the CSV ends with the dataset-level row
    return pd.read_csv(tmp_path / "run" / "per_image.csv"), scored.iloc[:-1]


def test_score_equals_run_exactly_for_rgb_methods(tmp_path, monkeypatch, capsys):
    ran, scored = run_then_score(tmp_path, monkeypatch, "bicubic", 4)
    assert list(scored["image"]) == list(ran["image"])
    for name in METRICS.split(","):
        assert list(scored[name]) == list(ran[name])
    assert "mean" in capsys.readouterr().out


def test_score_without_hr_uses_no_reference_metrics_only(tmp_path, monkeypatch, capsys, niqe_model_file):
    ran, _ = run_then_score(tmp_path, monkeypatch, "bicubic", 4, size=(128, 120))  # NIQE needs 96 px after the shave
    folder = str(tmp_path / "run" / "sr" / "bicubic" / "Tiny" / "x4")
    assert main(["score", folder, "--metrics", "gsm"]) == 2
    assert "give --hr" in capsys.readouterr().err
    assert main(["score", folder, "--metrics", "niqe_pirm", "--out", str(tmp_path / "nr.csv")]) == 0
    nr = pd.read_csv(tmp_path / "nr.csv")
    assert list(nr.columns) == ["image", "niqe_pirm"] and len(nr) == len(ran) + 1


def test_score_close_to_run_for_y_methods(tmp_path, monkeypatch):
    # tinynet is a Y-only method: run scores its native Y, score re-derives Y from the saved RGB, so the
    # two agree only up to the RGB round trip
    ran, scored = run_then_score(tmp_path, monkeypatch, "tinynet", 3)
    assert list(scored["image"]) == list(ran["image"])
    assert (abs(scored["psnr_y"] - ran["psnr_y"]) < 0.05).all(), (scored, ran)
