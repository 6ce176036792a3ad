"""`srbench score` gives the numbers `srbench run` gives for the same SR images."""
from __future__ import annotations

import pandas as pd

import bench_fixtures
from srbench.cli import main


def test_score_matches_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    data = bench_fixtures.make_dataset(tmp_path, "Tiny", count=3, size=(100, 90))
    bench_fixtures.install(tmp_path / "manifests", monkeypatch.setattr, monkeypatch.setitem)
    metrics = "psnr_y,ssim_y,rmse"
    assert main(["run", "--methods", "tinynet", "--datasets", "Tiny", "--data-root", str(data), "--scale", "3",
                 "--metrics", metrics, "--out", str(tmp_path / "run"), "--quiet", "--no-report"]) == 0
    assert main(["score", "--sr", str(tmp_path / "run" / "sr" / "tinynet" / "Tiny" / "x3"), "--hr",
                 str(data / "Tiny" / "HR"), "--scale", "3", "--metrics", metrics,
                 "--out", str(tmp_path / "score.csv")]) == 0
    ran = pd.read_csv(tmp_path / "run" / "per_image.csv")
    scored = pd.read_csv(tmp_path / "score.csv")
    assert list(scored["image"]) == list(ran["image"])
    # tinynet is a Y-only method: run scores its native Y, score re-derives Y from the saved RGB, so the
    # two agree only up to the RGB round trip (PSNR within 0.05 dB)
    assert (abs(scored["psnr_y"] - ran["psnr_y"]) < 0.05).all(), (scored, ran)
    summary = capsys.readouterr().out
    assert "(dataset)" in summary


def test_score_equals_run_exactly_for_rgb_methods(tmp_path, monkeypatch):
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    data = bench_fixtures.make_dataset(tmp_path, "Tiny", count=3, size=(100, 90))
    bench_fixtures.install(tmp_path / "manifests", monkeypatch.setattr, monkeypatch.setitem)
    metrics = "psnr_y,ssim_y,rmse"
    assert main(["run", "--methods", "bicubic", "--datasets", "Tiny", "--data-root", str(data), "--scale", "4",
                 "--metrics", metrics, "--out", str(tmp_path / "run"), "--quiet", "--no-report"]) == 0
    assert main(["score", "--sr", str(tmp_path / "run" / "sr" / "bicubic" / "Tiny" / "x4"), "--hr",
                 str(data / "Tiny" / "HR"), "--scale", "4", "--metrics", metrics,
                 "--out", str(tmp_path / "score.csv")]) == 0
    ran = pd.read_csv(tmp_path / "run" / "per_image.csv")
    scored = pd.read_csv(tmp_path / "score.csv")
    for name in metrics.split(","):
        assert list(scored[name]) == list(ran[name])
