"""The results cache: a rerun computes nothing, and each part of the key (metric version, weights,
degradation, protocol/crop, tiling) invalidates exactly what it should."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import bench_fixtures
from srbench import results_cache
from srbench.cli import main
from srbench.metrics.fidelity import PSNRY, SSIMY

METRICS = "psnr_y,ssim_y"


@pytest.fixture
def bench(tmp_path, monkeypatch):
    """Run `srbench run` in-process on a 3-image set, counting SR and metric computations."""
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    data = bench_fixtures.make_dataset(tmp_path, "Tiny", count=3, size=(64, 60))
    bench_fixtures.install(tmp_path / "manifests", monkeypatch.setattr, monkeypatch.setitem)
    calls: Counter = Counter()

    def counting(cls, attr, key):
        original = getattr(cls, attr)

        def wrapper(self, *args, **kwargs):
            calls[key] += 1
            return original(self, *args, **kwargs)
        monkeypatch.setattr(cls, attr, wrapper)

    counting(bench_fixtures.TinyNet, "super_resolve", "sr")
    counting(PSNRY, "compute", "psnr_y")
    counting(SSIMY, "compute", "ssim_y")

    def run(*extra: str, out: str = "run") -> Counter:
        calls.clear()
        argv = ["run", "--methods", "tinynet", "--datasets", "Tiny", "--data-root", str(data), "--scale", "2",
                "--metrics", METRICS, "--out", str(tmp_path / out), "--quiet", "--no-report", *extra]
        assert main(argv) == 0
        return Counter(calls)

    run.tmp = tmp_path
    return run


def test_rerun_computes_nothing_and_tables_are_identical(bench):
    first = bench()
    assert first == Counter(sr=3, psnr_y=3, ssim_y=3)
    tables = {n: (bench.tmp / "run" / n).read_bytes() for n in ("per_image.csv", "summary.csv")}
    assert bench() == Counter()
    assert {n: (bench.tmp / "run" / n).read_bytes() for n in tables} == tables


def test_metric_version_invalidates_only_that_metric(bench, monkeypatch):
    bench()
    monkeypatch.setattr(PSNRY, "version", "2")
    assert bench() == Counter(psnr_y=3)  # the SR images come from the cache


def test_protocol_and_crop_invalidate_metrics_not_sr(bench):
    bench()
    assert bench("--crop-border", "5") == Counter(psnr_y=3, ssim_y=3)
    assert bench("--protocol", "basicsr") == Counter(psnr_y=3, ssim_y=3)


def test_weights_identity_invalidates_everything(bench, monkeypatch):
    bench()
    build = bench_fixtures.TinyNet.build
    monkeypatch.setattr(bench_fixtures.TinyNet, "build", lambda self, scale: (build(self, scale)[0], "other-sha"))
    assert bench() == Counter(sr=3, psnr_y=3, ssim_y=3)


def test_degradation_and_tiling_invalidate_everything(bench):
    bench()
    assert bench("--degradation", "blur-bicubic") == Counter(sr=3, psnr_y=3, ssim_y=3)
    assert bench("--tile", "16") == Counter(sr=3, psnr_y=3, ssim_y=3)


def test_damaged_records_and_sr_are_recomputed_to_the_same_tables(bench):
    bench()
    before = (bench.tmp / "run" / "per_image.csv").read_bytes()
    records = sorted((bench.tmp / "cache" / "results").rglob("*.json"))
    srs = sorted(p for p in (bench.tmp / "cache" / "sr").rglob("*.npy") if not p.name.endswith(".y.npy"))
    assert len(records) == 3 and len(srs) == 3
    records[0].write_text("{not json")
    records[1].write_text(json.dumps({"metrics": {"x": "not a number"}}))
    srs[2].write_bytes(srs[2].read_bytes()[:40])  # a truncated cached SR image
    # two records are redone from the cached SR images; the unreadable SR image is redone (once) whether its
    # record was intact (to copy it into the run folder) or not
    assert bench() == Counter(sr=1, psnr_y=2, ssim_y=2)
    assert (bench.tmp / "run" / "per_image.csv").read_bytes() == before


def test_damaged_native_y_is_recomputed_not_dropped(bench, monkeypatch):
    bench()
    before = (bench.tmp / "run" / "per_image.csv").read_bytes()
    for path in (bench.tmp / "cache" / "results").rglob("*.json"):
        path.unlink()  # force the metrics to be recomputed from the cached SR images
    native = sorted((bench.tmp / "cache" / "sr").rglob("*.y.npy"))
    assert len(native) == 3  # tinynet is a Y-only method: its own Y plane is cached beside the RGB
    native[0].write_bytes(b"")
    # the damaged one is super-resolved again instead of being scored on the Y re-derived from RGB
    assert bench() == Counter(sr=1, psnr_y=3, ssim_y=3)
    assert (bench.tmp / "run" / "per_image.csv").read_bytes() == before


def test_stale_sr_image_in_run_folder_is_replaced(bench, monkeypatch):
    bench()
    sr_file = bench.tmp / "run" / "sr" / "tinynet" / "Tiny" / "x2" / "img0.png"
    good = sr_file.read_bytes()
    sr_file.write_bytes(b"left over from another run")
    assert bench() == Counter()
    assert sr_file.read_bytes() == good


def test_no_cache_writes_no_cache_and_cache_clear_empties_it(bench, capsys):
    assert bench("--no-cache", out="nocache") == Counter(sr=3, psnr_y=3, ssim_y=3)
    assert not (bench.tmp / "cache").exists()
    bench()
    assert main(["cache", "clear"]) == 0
    assert not any((bench.tmp / "cache" / sub).exists() for sub in results_cache.CACHE_SUBDIRS)
    assert bench() == Counter(sr=3, psnr_y=3, ssim_y=3)


def test_keys_differ_for_every_part():
    base = ("record", "m:x4:sha|v1|tileNone/None|cpu", "hrsha", 4, "bicubic-v1")
    keys = {results_cache.make_key(*base)}
    for i, other in enumerate(["sr", "m:x4:sha2|v1|tileNone/None|cpu", "hrsha2", 2, "blur-bicubic-v1"]):
        keys.add(results_cache.make_key(*base[:i], other, *base[i + 1:]))
    assert len(keys) == 6
    assert results_cache.make_key("a", "bc") != results_cache.make_key("ab", "c")  # parts are separated
