"""Drift gate: exit 1 on drift or on missing/new values (counted apart), 0 on the unchanged run, 2 on
unusable input and on values measured differently (protocol, degradation, crop, metric or srbench version)."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from srbench.cli import main
from srbench.errors import UserError
from srbench.gate import (CONTEXT_COLUMNS, DEFAULT_TOLERANCES, compare, load_baseline, parse_tolerances,
                          run_values)
from srbench.run_folder import manifest
from synthetic_run import make_run


@pytest.fixture
def gated(tmp_path):
    """A run and a baseline written from it with --update."""
    run = make_run(tmp_path, n_images=3)
    baseline = tmp_path / "baseline.csv"
    assert main(["gate", "--update", "--baseline", str(baseline), str(run)]) == 0
    return run, baseline


def _edit_summary(run, method, metric, delta):
    """Shift one summary value, as a run that produced it would: run.json's manifest follows the table."""
    table = pd.read_csv(run / "summary.csv", keep_default_na=False, na_values=[""])
    table.loc[table["method"] == method, metric] += delta
    table.to_csv(run / "summary.csv", index=False, float_format="%.17g")
    info = json.loads((run / "run.json").read_text())
    if "files" in info:
        info.update(manifest(run))
        (run / "run.json").write_text(json.dumps(info))


def _edit_run_json(run, edit):
    info = json.loads((run / "run.json").read_text())
    edit(info)
    (run / "run.json").write_text(json.dumps(info))


def test_baseline_round_trips_every_value_exactly(gated):
    run, baseline = gated
    assert load_baseline(baseline) == run_values(run)
    assert len(load_baseline(baseline)) == 3 * 4  # 3 methods x 4 metrics


def test_baseline_records_how_values_were_measured(gated):
    run, baseline = gated
    table = pd.read_csv(baseline, dtype=str, keep_default_na=False)
    assert list(table.columns)[5:] == CONTEXT_COLUMNS
    assert set(table["degradation"]) == {"bicubic"} and set(table["srbench"]) == {"test"}


def test_unchanged_run_passes(gated, capsys):
    run, baseline = gated
    assert main(["gate", "--baseline", str(baseline), str(run)]) == 0
    out = capsys.readouterr().out
    assert "12 value(s) compared: 0 drifted, 0 missing, 0 new" in out and "gate: passed" in out


def test_psnr_change_of_005_db_fails(gated, capsys):
    run, baseline = gated
    _edit_summary(run, "noisy", "psnr_y", +0.05)
    assert main(["gate", "--baseline", str(baseline), str(run)]) == 1
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("DRIFT"))
    assert "noisy" in line and "psnr_y" in line and "+0.05" in line
    assert "1 drifted, 0 missing, 0 new" in out
    # a tolerance wider than the change lets it through as 'within'
    assert main(["gate", "--baseline", str(baseline), "--tolerance", "psnr_y=0.06", str(run)]) == 0
    assert "1 moved within tolerance" in capsys.readouterr().out
    # ... and one narrower does not
    assert main(["gate", "--baseline", str(baseline), "--tolerance", "default=0.01", str(run)]) == 1


@pytest.mark.parametrize("metric,change", [("psnr_y", 0.01), ("psnr_y", -0.01), ("ssim_y", 1e-4),
                                           ("ssim_y", -1e-4)])
def test_default_tolerances_catch_the_smallest_required_change(gated, capsys, metric, change):
    run, baseline = gated
    _edit_summary(run, "bicubic", metric, change)
    assert main(["gate", "--baseline", str(baseline), str(run)]) == 1
    assert "1 drifted" in capsys.readouterr().out


def test_default_tolerances_are_per_metric_and_below_the_required_resolution():
    assert DEFAULT_TOLERANCES["psnr_y"] < 0.01 and DEFAULT_TOLERANCES["ssim_y"] < 1e-4
    assert all(t > 0 for t in DEFAULT_TOLERANCES.values())
    from srbench.metrics import load_builtin_metrics

    assert set(DEFAULT_TOLERANCES) == set(load_builtin_metrics().names())  # every metric has a measured default


def test_a_delta_equal_to_the_tolerance_passes_and_one_beyond_fails():
    key = ("m", "D", 4, "psnr_y")
    # 0.5 and 0.25 are exact in binary, so the delta is exactly the tolerance
    assert compare({key: 28.0}, {key: 28.5}, {"psnr_y": 0.5})[0].status == "within"
    assert compare({key: 28.0}, {key: 27.5}, {"psnr_y": 0.5})[0].status == "within"
    assert compare({key: 28.0}, {key: 28.5}, {"psnr_y": 0.25})[0].status == "DRIFT"
    assert compare({key: 28.0}, {key: 28.0 + 2 ** -9}, {})[0].status == "within"  # default 0.002 > 2**-9
    assert compare({key: 28.0}, {key: 28.0 + 2 ** -8}, {})[0].status == "DRIFT"


def test_missing_and_new_rows_are_counted_apart_from_drift(gated, capsys):
    run, baseline = gated
    table = pd.read_csv(run / "summary.csv", keep_default_na=False, na_values=[""])
    table[table["method"] != "noisy"].to_csv(run / "summary.csv", index=False, float_format="%.17g")
    assert main(["gate", "--baseline", str(baseline), str(run)]) == 1
    out = capsys.readouterr().out
    assert "0 drifted, 4 missing, 0 new" in out
    assert "FAILED - 4 missing against" in out
    # the other way round: the run has values the baseline never saw
    assert main(["gate", "--update", "--baseline", str(baseline), str(run)]) == 0
    make_run(run.parent, n_images=3)  # the full run again
    assert main(["gate", "--baseline", str(baseline), str(run)]) == 1
    out = capsys.readouterr().out
    assert "0 drifted, 0 missing, 4 new" in out and out.count("\nnew ") == 4


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


def test_baseline_may_be_a_run_folder_or_its_summary(gated, tmp_path, capsys):
    run, _ = gated
    previous = tmp_path / "previous"
    shutil.copytree(run, previous)
    for baseline in (previous, previous / "summary.csv"):
        assert main(["gate", "--baseline", str(baseline), str(run)]) == 0
        assert "12 value(s) compared: 0 drifted" in capsys.readouterr().out
    _edit_summary(run, "bicubic", "psnr_y", 0.01)
    for baseline in (previous, previous / "summary.csv"):
        assert main(["gate", "--baseline", str(baseline), str(run)]) == 1
        assert "1 drifted" in capsys.readouterr().out
    # a summary.csv on its own (no run.json beside it) works too
    alone = tmp_path / "alone.csv"
    shutil.copy(previous / "summary.csv", alone)
    assert main(["gate", "--baseline", str(alone), str(run)]) == 1
    # --update never overwrites a run folder or a run's summary
    assert main(["gate", "--update", "--baseline", str(previous), str(run)]) == 2
    assert main(["gate", "--update", "--baseline", str(alone), str(run)]) == 2
    assert "--update writes a baseline file" in capsys.readouterr().err


def test_count_columns_of_the_summary_are_not_gated(gated, capsys):
    """summary.csv's `images` and `failed` (and any column that is not one of the run's metrics) are not
    metric values: a baseline made from them and a run without them agree."""
    run, baseline = gated
    table = pd.read_csv(run / "summary.csv", keep_default_na=False, na_values=[""])
    table["images"], table["failed"], table["provenance"] = 3, 0, "trained by srbench"
    table.to_csv(run / "summary.csv", index=False, float_format="%.17g")
    assert main(["gate", "--baseline", str(baseline), str(run)]) == 0
    alone = run.parent / "summary-with-counts.csv"
    table.to_csv(alone, index=False, float_format="%.17g")
    assert len(load_baseline(alone)) == 12


@pytest.mark.parametrize("field,edit,words", [
    ("protocol", lambda i: i.update(protocol={"name": "basicsr"}), "protocol differs: matlab in baseline"),
    ("degradation", lambda i: i["config"].update(degradation="blur-bicubic"), "degradation differs"),
    ("crop", lambda i: i["config"].update(crop_border=0), "border crop (Toy x4) differs: 4 in baseline"),
    ("metric version", lambda i: i["metrics"]["psnr_y"].update(version="2"), "metric psnr_y version differs"),
    ("srbench version", lambda i: i["versions"].update(srbench="9.9"), "srbench version differs: test in"),
])
def test_measured_differently_is_not_drift(gated, capsys, field, edit, words):
    run, baseline = gated
    _edit_run_json(run, lambda i: (i.update(protocol={"name": "matlab"}),
                                   [m.update(version="1") for m in i["metrics"].values()]))
    assert main(["gate", "--update", "--baseline", str(baseline), str(run)]) == 0
    _edit_run_json(run, edit)
    capsys.readouterr()
    assert main(["gate", "--baseline", str(baseline), str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "not comparable" in err and len(err.splitlines()) == 1


def test_unusable_input_exits_2_with_one_line(gated, tmp_path, capsys):
    run, baseline = gated

    def refused(*args, words):
        capsys.readouterr()
        assert main(["gate", *args]) == 2
        err = capsys.readouterr().err.strip()
        assert words in err and len(err.splitlines()) == 1, err

    refused("--baseline", str(tmp_path / "none.csv"), str(run), words="none.csv: file not found")
    bad = tmp_path / "bad.csv"
    bad.write_text("method,dataset,value\nm,D,1\n")
    refused("--baseline", str(bad), str(run), words="missing column(s) scale, metric")
    refused("--baseline", str(baseline), "--tolerance", "psnr_y", str(run), words="expected METRIC=ABS")
    refused("--baseline", str(baseline), "--tolerance", "psnr_y=-1", str(run), words="expected METRIC=ABS")
    refused("--baseline", str(baseline), "--tolerance", "psnr=0.1", str(run),
            words="unknown metric 'psnr' (did you mean 'psnr_y'?)")
    refused("--baseline", str(tmp_path / "data"), str(run), words="data: not a run folder")  # a folder, no run
    empty_run = tmp_path / "empty"
    empty_run.mkdir()
    refused("--baseline", str(baseline), str(empty_run), words="not a run folder")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage\x00")
    refused("--baseline", str(binary), str(run), words="binary.csv: not a readable CSV")
    half = tmp_path / "half.csv"
    lines = baseline.read_text().splitlines()
    fields = lines[1].split(",")
    fields[2] = "4.5"
    half.write_text("\n".join([lines[0], ",".join(fields)]) + "\n")
    refused("--baseline", str(half), str(run), words="half.csv: column 'scale' must hold integers")
    dup = tmp_path / "dup.csv"
    shutil.copy(baseline, dup)
    with dup.open("a") as f:
        f.write(lines[1] + "\n")
    with pytest.raises(UserError, match="duplicate row"):
        load_baseline(dup)


def test_parse_tolerances():
    assert parse_tolerances(["psnr_y=0.01", "default=1e-3"]) == {"psnr_y": 0.01, "default": 1e-3}
    assert parse_tolerances(["psnr_y=0.01,ssim_y=2e-4"]) == {"psnr_y": 0.01, "ssim_y": 2e-4}
    with pytest.raises(UserError):
        parse_tolerances(["=0.1"])


def test_real_run_report_and_gate(tmp_path, monkeypatch, capsys):
    """End to end on the embedded default dataset: `srbench run` writes the report; the gate passes on a
    rerun, passes with the run folder itself as baseline, and fails on a copy whose bicubic PSNR is
    shifted by 0.01 dB."""
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    out, baseline = tmp_path / "run", tmp_path / "baseline.csv"
    args = ["run", "--methods", "bicubic", "--scale", "4", "--metrics", "psnr_y,ssim_y", "--out", str(out),
            "--quiet"]
    assert main(args) == 0
    index = out / "report" / "index.html"
    assert "bicubic" in index.read_text(encoding="utf-8")
    assert main(["gate", "--update", "--baseline", str(baseline), str(out)]) == 0
    assert main(args + ["--no-report"]) == 0  # a rerun reproduces every value exactly
    assert main(["gate", "--baseline", str(baseline), str(out)]) == 0
    assert main(["gate", "--baseline", str(out), str(out)]) == 0
    shifted = tmp_path / "shifted"
    shutil.copytree(out, shifted)
    _edit_summary(shifted, "bicubic", "psnr_y", 0.01)
    capsys.readouterr()
    assert main(["gate", "--baseline", str(out), str(shifted)]) == 1
    assert "DRIFT   bicubic  default  x4     psnr_y" in capsys.readouterr().out
    _edit_summary(shifted, "bicubic", "psnr_y", -0.01)
    _edit_summary(shifted, "bicubic", "ssim_y", 1e-4)
    assert main(["gate", "--baseline", str(baseline), str(shifted)]) == 1
    assert "DRIFT   bicubic  default  x4     ssim_y" in capsys.readouterr().out
