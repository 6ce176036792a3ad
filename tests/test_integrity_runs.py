"""Issue 14, results that cannot mislead: per-metric failures in `run` and `score`, coverage columns in
summary.csv, non-finite values, BaseException per item, cache record integrity, a full cache disk, and
unknown pyiqa names. Each test runs the real command line in-process on a small synthetic dataset."""
from __future__ import annotations

import json
import sys
import types

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import bench_fixtures
from srbench import results_cache
from srbench.cli import main
from srbench.methods.bicubic import Bicubic

METRICS = "psnr_y,ssim_y,rmse"


class RefusesTwo(Bicubic):
    """Bicubic that raises on the two hardest images (the issue's leaderboard case)."""

    name = "refuses_two"

    def super_resolve(self, lr, scale, image_name=None):
        if image_name in ("img1", "img3"):
            raise RuntimeError(f"refusing {image_name}")
        return super().super_resolve(lr, scale, image_name)


class Exits(Bicubic):
    name = "exits"

    def super_resolve(self, lr, scale, image_name=None):
        if image_name in ("img2", "tiny"):
            sys.exit(3)
        return super().super_resolve(lr, scale, image_name)


class NativeY(Bicubic):
    """A method with its own Y plane that differs from the Y of its RGB output (as fsrcnn's, espcn's, srcnn's
    do after the RGB round trip; here by a clear 3 grey levels so the test does not depend on rounding luck)."""

    name = "native_y"

    def super_resolve(self, lr, scale, image_name=None):
        from srbench.metrics import EvalImage
        from srbench.methods.base import SROutput

        out = super().super_resolve(lr, scale, image_name)
        return SROutput(pixels=out.pixels, native_y=np.clip(EvalImage(out.pixels).y + 3.0, 0, 255))


class Interrupted(Bicubic):
    name = "interrupted"

    def super_resolve(self, lr, scale, image_name=None):
        raise KeyboardInterrupt


@pytest.fixture
def bench(tmp_path, monkeypatch):
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    data = bench_fixtures.make_dataset(tmp_path, "Tiny", count=5, size=(64, 60))
    # a 17x16 image: passes the size check at x4, but is 8x8 after the 4-px crop (SSIM's window is 11x11)
    small = tmp_path / "data" / "Small" / "HR"
    small.mkdir(parents=True)
    for k in range(3):
        Image.fromarray(bench_fixtures.hr_pattern(k, 64, 60)).save(small / f"img{k}.png")
    Image.fromarray(bench_fixtures.hr_pattern(9, 16, 17)).save(small / "tiny.png")
    bench_fixtures.write_manifest(tmp_path / "manifests", "Small", 4)
    bench_fixtures.install(tmp_path / "manifests", monkeypatch.setattr, monkeypatch.setitem)
    import srbench.methods as methods

    for cls in (RefusesTwo, Exits, Interrupted, NativeY):
        monkeypatch.setitem(methods.METHODS._items, cls.name, cls)

    def run(methods="bicubic", ds="Tiny", out="run", metrics=METRICS, scale="4", extra=()):
        argv = ["run", "--methods", methods, "--datasets", ds, "--data-root", str(data), "--scale", scale,
                "--metrics", metrics, "--out", str(tmp_path / out), "--quiet", "--no-report", *extra]
        return main(argv)

    run.tmp = tmp_path
    run.data = data
    return run


def _tables(root):
    return {n: pd.read_csv(root / n, keep_default_na=False, na_values=[""]) for n in
            ("per_image.csv", "summary.csv", "errors.csv")}


def test_one_metric_failing_on_one_image_fails_only_that_metric_in_run(bench, capsys):
    assert bench(ds="Small") == 1
    t = _tables(bench.tmp / "run")
    per = t["per_image.csv"].set_index("image")
    assert len(per) == 4 and np.isnan(per.loc["tiny", "ssim_y"])  # the image stays, psnr/rmse kept
    assert np.isfinite(per.loc["tiny", "psnr_y"]) and np.isfinite(per.loc["tiny", "rmse"])
    err = t["errors.csv"]
    assert list(err.columns) == ["method", "dataset", "scale", "image", "metric", "error"]
    assert err[["image", "metric"]].values.tolist() == [["tiny", "ssim_y"]]
    assert "ssim_y needs at least 11x11 pixels" in err["error"][0]
    s = t["summary.csv"].iloc[0]
    assert s["images"] == 4 and s["failed"] == 0 and s["ssim_y_n"] == 3 and s["psnr_y_n"] == 4
    ok = per.drop(index="tiny")
    assert s["ssim_y"] == pytest.approx(ok["ssim_y"].mean()) and np.isfinite(s["ssim_y"])
    assert s["psnr_y"] == pytest.approx(per["psnr_y"].mean())
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("srbench: error:")]
    assert len(lines) == 1 and "tiny.png" in lines[0] and "ssim_y" in lines[0]


def test_score_keeps_other_metrics_and_a_finite_mean(bench, capsys):
    hr = bench.data / "Small" / "HR"
    out = bench.tmp / "scored.csv"
    rc = main(["score", str(hr), "--hr", str(hr), "--scale", "4", "--metrics", "ssim_y,rmse", "--out", str(out)])
    assert rc == 1
    table = pd.read_csv(out, keep_default_na=False, na_values=[""]).set_index("image")
    assert np.isnan(table.loc["tiny", "ssim_y"]) and table.loc["tiny", "rmse"] == 0
    assert table.loc["mean", "ssim_y"] == pytest.approx(1.0) and np.isfinite(table.loc["mean", "ssim_y"])
    err = capsys.readouterr().err
    assert "tiny.png" in err and "ssim_y needs at least 11x11" in err and "Traceback" not in err


def test_summary_counts_images_and_failures_and_keeps_methods_that_produced_nothing(bench):
    assert bench(methods="bicubic,refuses_two,broken_init") == 1
    s = _tables(bench.tmp / "run")["summary.csv"].set_index("method")
    assert s.loc["bicubic", ["images", "failed"]].tolist() == [5, 0]
    assert s.loc["refuses_two", ["images", "failed"]].tolist() == [3, 2]
    assert s.loc["broken_init", ["images", "failed"]].tolist() == [0, 5]
    assert np.isnan(s.loc["broken_init", "psnr_y"])
    assert "psnr_y_n" not in s.columns  # no metric failed alone: no per-metric counts


def test_system_exit_in_a_method_is_a_per_item_failure(bench):
    assert bench(methods="bicubic,exits") == 1
    t = _tables(bench.tmp / "run")
    err = t["errors.csv"]
    assert err[["method", "image"]].values.tolist() == [["exits", "img2"]] and "SystemExit" in err["error"][0]
    assert t["summary.csv"].set_index("method").loc["exits", ["images", "failed"]].tolist() == [4, 1]


def test_ctrl_c_stays_a_clean_interrupt(bench, capsys):
    assert bench(methods="interrupted") == 130
    assert "interrupted" in capsys.readouterr().err


def test_dataset_value_never_includes_a_non_finite_value(bench):
    """An SR equal to its HR after the crop gives PSNR inf: that image's psnr fails alone, the mean stays finite."""
    flat = bench.tmp / "data" / "Flat" / "HR"
    flat.mkdir(parents=True)
    Image.fromarray(np.full((64, 60, 3), 128, np.uint8)).save(flat / "grey.png")  # bicubic reproduces it
    for k in range(2):
        Image.fromarray(bench_fixtures.hr_pattern(k, 64, 60)).save(flat / f"img{k}.png")
    assert bench(ds="Flat") == 1
    s = _tables(bench.tmp / "run")["summary.csv"].iloc[0]
    assert np.isfinite(s["psnr_y"]) and s["psnr_y_n"] == 2 and s["images"] == 3


def _records():
    import os
    from pathlib import Path

    return sorted((Path(os.environ["SRBENCH_CACHE"]) / "results").rglob("*.json"))


def test_hand_edited_or_nan_record_is_recomputed_not_used(bench):
    assert bench(methods="tinynet", out="clean") == 0
    clean = (bench.tmp / "clean" / "per_image.csv").read_bytes()
    records = _records()
    edited = json.loads(records[0].read_text())
    key = next(k for k in edited["metrics"] if k.startswith("psnr_y"))
    edited["metrics"][key] += 1.0  # +1 dB, still valid JSON
    records[0].write_text(json.dumps(edited))
    nan = json.loads(records[1].read_text())
    nan["metrics"][key] = float("nan")
    records[1].write_text(json.dumps(nan))
    assert bench(methods="tinynet", out="again") == 0
    assert (bench.tmp / "again" / "per_image.csv").read_bytes() == clean


def test_missing_native_y_beside_a_cached_rgb_is_recomputed(bench):
    """Losing `<key>.y.png` (and the records) must not score a native-Y method on Y re-derived from RGB."""
    assert bench(methods="native_y", out="clean") == 0
    clean = (bench.tmp / "clean" / "per_image.csv").read_bytes()
    for path in _records():
        path.unlink()
    native = sorted((bench.tmp / "cache" / "sr").rglob("*.y.npy"))
    assert len(native) == 5
    for path in native:
        path.unlink()
    assert bench(methods="native_y", out="again") == 0
    assert (bench.tmp / "again" / "per_image.csv").read_bytes() == clean


def test_record_of_another_sr_output_is_not_used(bench):
    """A record whose SR hash differs from the SR output at hand is recomputed."""
    assert bench(methods="tinynet", out="clean") == 0
    clean = (bench.tmp / "clean" / "per_image.csv").read_bytes()
    records = _records()
    rec = json.loads(records[0].read_text())
    rec["sr"]["sr"] = "0" * 64
    for k in rec["metrics"]:
        rec["metrics"][k] += 0.5
    rec["digest"] = results_cache.record_digest(rec)  # a well-sealed record of some other SR output
    records[0].write_text(json.dumps(rec))
    import shutil

    shutil.rmtree(bench.tmp / "clean" / "sr")  # the run folder needs the SR again: it is compared with the record
    assert bench(methods="tinynet", out="clean") == 0
    assert (bench.tmp / "clean" / "per_image.csv").read_bytes() == clean


def test_full_cache_disk_does_not_fail_computed_items(bench, monkeypatch, capsys):
    assert bench(methods="tinynet", out="clean") == 0
    clean = {n: (bench.tmp / "clean" / n).read_bytes() for n in ("per_image.csv", "summary.csv")}
    monkeypatch.setenv("SRBENCH_CACHE", str(bench.tmp / "fullcache"))
    import srbench.evaluate as evaluate
    from srbench.atomic import WriteError

    def full(*args, **kwargs):
        raise WriteError(f"{bench.tmp}/fullcache/x: cannot write (No space left on device)")

    monkeypatch.setattr(evaluate, "_cache_write_warned", False)
    for name in ("store_record", "store_sr", "store_sr_meta"):
        monkeypatch.setattr(results_cache, name, full)
    assert bench(methods="tinynet", out="full") == 0
    assert {n: (bench.tmp / "full" / n).read_bytes() for n in clean} == clean
    assert len(list((bench.tmp / "full" / "sr").rglob("*.png"))) == 5
    err = capsys.readouterr().err
    assert err.count("cannot write the cache") == 1 and "No space left on device" in err


def test_unknown_pyiqa_metric_is_refused_up_front(bench, monkeypatch, capsys):
    fake = types.ModuleType("pyiqa")
    fake.list_models = lambda: ["niqe", "lpips", "musiq"]
    monkeypatch.setitem(sys.modules, "pyiqa", fake)
    assert bench(metrics="pyiqa:bogus") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown pyiqa metric 'bogus'" in err[0]
    assert not (bench.tmp / "run" / "per_image.csv").exists()


def test_only_metric_unavailable_is_refused(bench, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyiqa", None)  # not importable
    assert bench(metrics="pyiqa:musiq") == 2
    assert "no metric can be computed" in capsys.readouterr().err


def test_worker_processes_give_the_same_failures_and_coverage(bench):
    """--jobs 2: a metric failing alone and a method calling sys.exit give the serial executor's tables."""
    assert bench(methods="bicubic,exits", ds="Small", out="serial") == 1
    assert bench(methods="bicubic,exits", ds="Small", out="pool", extra=("--jobs", "2")) == 1
    for name in ("per_image.csv", "summary.csv", "errors.csv"):
        assert (bench.tmp / "pool" / name).read_bytes() == (bench.tmp / "serial" / name).read_bytes(), name
    err = _tables(bench.tmp / "pool")["errors.csv"]
    assert set(err["metric"].fillna("")) == {"", "ssim_y"} and err["error"].str.contains("SystemExit").any()
