"""Drift gate: exit 1 on a deliberate 0.05 dB PSNR change, 0 on the unchanged run, 2 on unusable input."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from srbench.cli import main
from srbench.errors import UserError
from srbench.gate import compare, load_baseline, parse_tolerances, run_values
from synthetic_run import make_run


@pytest.fixture
def gated(tmp_path):
    """A run and a baseline written from it with --update."""
    run = make_run(tmp_path, n_images=3)
    baseline = tmp_path / "baseline.csv"
    assert main(["gate", "--update", "--baseline", str(baseline), str(run)]) == 0
    return run, baseline


def _edit_summary(run, method, metric, delta):
    table = pd.read_csv(run / "summary.csv", keep_default_na=False, na_values=[""])
    table.loc[table["method"] == method, metric] += delta
    table.to_csv(run / "summary.csv", index=False, float_format="%.17g")


def test_baseline_round_trips_every_value_exactly(gated):
    run, baseline = gated
    assert load_baseline(baseline) == run_values(run)
    assert len(load_baseline(baseline)) == 3 * 4  # 3 methods x 4 metrics


def test_unchanged_run_passes(gated, capsys):
    run, baseline = gated
    assert main(["gate", "--baseline", str(baseline), str(run)]) == 0
    out = capsys.readouterr().out
    assert "12 value(s) compared: 0 drifted" in out and "gate: passed" in out


def test_psnr_change_of_005_db_fails(gated, capsys):
    run, baseline = gated
    _edit_summary(run, "noisy", "psnr_y", +0.05)
    assert main(["gate", "--baseline", str(baseline), str(run)]) == 1
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("DRIFT"))
    assert "noisy" in line and "psnr_y" in line and "+0.05" in line
    assert "1 drifted" in out
    # a tolerance wider than the change lets it through as 'within'
    assert main(["gate", "--baseline", str(baseline), "--tolerance", "psnr_y=0.06", str(run)]) == 0
    assert "1 moved within tolerance" in capsys.readouterr().out
    # ... and one narrower does not
    assert main(["gate", "--baseline", str(baseline), "--tolerance", "default=0.01", str(run)]) == 1


def test_missing_and_new_rows_are_drift(gated, capsys):
    run, baseline = gated
    table = pd.read_csv(run / "summary.csv", keep_default_na=False, na_values=[""])
    table[table["method"] != "noisy"].to_csv(run / "summary.csv", index=False, float_format="%.17g")
    assert main(["gate", "--baseline", str(baseline), str(run)]) == 1
    out = capsys.readouterr().out
    assert out.count("missing") >= 4 and "4 drifted" in out
    # a metric the baseline never saw is drift too, until the baseline is updated on purpose
    current = run_values(run)
    extra = dict(current)
    extra[("bicubic", "Toy", 4, "lpips")] = 0.3
    statuses = {r.key: r.status for r in compare(current, extra)}
    assert statuses[("bicubic", "Toy", 4, "lpips")] == "new"


def test_update_accepts_the_change(gated, capsys):
    run, baseline = gated
    _edit_summary(run, "bicubic", "ssim_y", -0.001)
    assert main(["gate", "--baseline", str(baseline), str(run)]) == 1
    assert main(["gate", "--update", "--baseline", str(baseline), str(run)]) == 0
    assert main(["gate", "--baseline", str(baseline), str(run)]) == 0


def test_nan_on_both_sides_is_unchanged_but_nan_on_one_side_drifts():
    key = ("m", "D", 4, "niqe")
    assert compare({key: float("nan")}, {key: float("nan")})[0].status == "ok"
    assert compare({key: 3.0}, {key: float("nan")})[0].status == "DRIFT"
    assert compare({key: float("inf")}, {key: float("inf")})[0].status == "ok"


def test_unusable_input_exits_2(gated, tmp_path, capsys):
    run, baseline = gated
    assert main(["gate", "--baseline", str(tmp_path / "none.csv"), str(run)]) == 2
    assert "none.csv: file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("method,dataset,value\nm,D,1\n")
    assert main(["gate", "--baseline", str(bad), str(run)]) == 2
    assert "missing column(s) scale, metric" in capsys.readouterr().err
    assert main(["gate", "--baseline", str(baseline), "--tolerance", "psnr_y", str(run)]) == 2
    assert main(["gate", "--baseline", str(baseline), "--tolerance", "psnr_y=-1", str(run)]) == 2
    empty_run = tmp_path / "empty"
    empty_run.mkdir()
    assert main(["gate", "--baseline", str(baseline), str(empty_run)]) == 2
    dup = tmp_path / "dup.csv"
    shutil.copy(baseline, dup)
    with dup.open("a") as f:
        f.write(baseline.read_text().splitlines()[1] + "\n")
    with pytest.raises(UserError, match="duplicate row"):
        load_baseline(dup)


def test_parse_tolerances():
    assert parse_tolerances(["psnr_y=0.01", "default=1e-3"]) == {"psnr_y": 0.01, "default": 1e-3}
    assert parse_tolerances(["psnr_y=0.01,ssim_y=2e-4"]) == {"psnr_y": 0.01, "ssim_y": 2e-4}
    with pytest.raises(UserError):
        parse_tolerances(["=0.1"])


def test_real_run_report_and_gate(tmp_path, monkeypatch, capsys):
    """End to end on the embedded default dataset: `srbench run` writes the report, the gate passes on a
    rerun and fails once a value is nudged by 0.05 dB."""
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    out, baseline = tmp_path / "run", tmp_path / "baseline.csv"
    args = ["run", "--methods", "bicubic", "--scale", "4", "--metrics", "psnr_y,rmse", "--out", str(out), "--quiet"]
    assert main(args) == 0
    index = out / "report" / "index.html"
    assert "bicubic" in index.read_text(encoding="utf-8")
    assert main(["gate", "--update", "--baseline", str(baseline), str(out)]) == 0
    assert main(args + ["--no-report"]) == 0  # a rerun reproduces every value exactly
    assert main(["gate", "--baseline", str(baseline), str(out)]) == 0
    _edit_summary(out, "bicubic", "psnr_y", -0.05)
    assert main(["gate", "--baseline", str(baseline), str(out)]) == 1
    assert "DRIFT   bicubic" in capsys.readouterr().out
