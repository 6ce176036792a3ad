"""Metrics with model files (NIQE, Ma, PI, pyiqa) and the workers that compute them.

A metric travels to a worker without its loaded model: the worker resolves its own copy, as it resolves a
method's weights. Before this, every `--jobs`/Dask task carried the pickled Ma model (166 MB for a model of
the real one's size, twice: ma_pirm and pi), which made `--jobs 2` slower than serial. Since the model now
comes from the worker's machine, the model's content is part of the metric's identity: a worker with
another model file refuses the metric, and a changed model is never served from the cache.
"""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import bench_fixtures
from srbench.cli import main
from srbench.evaluate import prepare
from srbench.execute import shipping
from srbench.execute.remote import Shipper, pack, run_task
from srbench.metrics import EvalContext, create_metric
from srbench.metrics.base import model_digest
from srbench.plan import metric_key
from srbench.runner import RunConfig
from tests.ma_model_fixture import write_model

MODEL_METRICS = ("niqe", "niqe_pirm", "ma", "ma_pirm", "pi")


@pytest.fixture
def ma_model(tmp_path, monkeypatch):
    """Two different Ma models; SRBENCH_MA_MODEL names the first."""
    first, second = tmp_path / "ma_a.mat", tmp_path / "ma_b.mat"
    write_model(first, seed=1, linear=(1.0, 0.5, 0.3, 0.2))
    write_model(second, seed=2, linear=(2.0, 0.1, 0.1, 0.1))
    monkeypatch.setenv("SRBENCH_MA_MODEL", str(first))
    return first, second


@pytest.mark.parametrize("name", MODEL_METRICS)
def test_a_prepared_metric_pickles_without_its_model(name, ma_model):
    metric = create_metric(name)
    metric.prepare()
    blob = pickle.dumps(metric)
    # the fixture's forests alone pickle to ~60 kB, NIQE's model to ~10 kB; a metric's own fields are tiny
    assert len(blob) < 1500, f"{name} pickles to {len(blob)} bytes: its model travels with it"
    copy = pickle.loads(blob)
    assert getattr(copy, "_model", None) is None
    assert copy.identity() == metric.identity()  # resolved again on arrival, to the same model


def test_model_digest_follows_content_not_object():
    a = (np.arange(6.0), np.eye(3))
    b = (np.arange(6.0), np.eye(3))
    c = (np.arange(6.0), np.eye(3) * 2)
    assert model_digest(a) == model_digest(b) != model_digest(c)
    assert model_digest((np.zeros(4, np.float32),)) != model_digest((np.zeros(4, np.float64),))


def test_identity_of_model_metrics_names_the_model(ma_model, monkeypatch):
    first, second = ma_model
    before = {n: create_metric(n).identity() for n in ("ma", "ma_pirm", "pi")}
    monkeypatch.setenv("SRBENCH_MA_MODEL", str(second))
    after = {n: create_metric(n).identity() for n in ("ma", "ma_pirm", "pi")}
    for name in before:
        assert before[name] != after[name]
        assert before[name].startswith(f"{name}@")
    assert create_metric("niqe").identity() == create_metric("niqe").identity()


def test_worker_with_another_model_refuses_only_that_metric(ma_model, monkeypatch):
    first, second = ma_model
    hr = bench_fixtures.hr_pattern(3, 200, 208)
    ctx = EvalContext.make(2)
    metrics = [create_metric(n) for n in ("psnr_y", "ma", "niqe")]
    for m in metrics:
        m.prepare()
    config = RunConfig(out="unused", methods=["bicubic"], datasets=["x"], scales=[2], use_cache=False)
    from srbench.methods import discover_methods

    method = discover_methods().create("bicubic")
    _, task = prepare(method, method.identity(2), hr, "sha", 2, metrics, ctx, config, "img.png", None)
    blob = pack(Shipper().task(task))  # as --jobs and Dask send it
    # what travels is the image and small objects: not the Ma forests (~60 kB here, 166 MB for the real size)
    assert len(blob) < hr.nbytes + 16_000, len(blob)
    monkeypatch.setattr(shipping, "_objects", {})  # a fresh worker: nothing received yet
    same = run_task(blob)
    assert set(same.values) == {"psnr_y", "ma", "niqe"} and not same.failures, same.failures
    # another fresh worker, which resolves another Ma model file than the client had
    monkeypatch.setattr(shipping, "_objects", {})
    monkeypatch.setenv("SRBENCH_MA_MODEL", str(second))
    other = run_task(blob)
    assert set(other.values) == {"psnr_y", "niqe"}
    assert other.values == {k: v for k, v in same.values.items() if k != "ma"}
    assert "differs from the client's" in other.failures["ma"]


def test_a_changed_model_is_not_served_from_the_cache(ma_model, tmp_path, monkeypatch):
    first, second = ma_model
    data = bench_fixtures.make_dataset(tmp_path, "Tiny", count=2, size=(100, 96))
    bench_fixtures.install(tmp_path / "manifests", monkeypatch.setattr, monkeypatch.setitem)
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))  # one cache for both runs

    def ma_values(out_name):
        out = tmp_path / out_name
        assert main(["run", "--methods", "bicubic", "--datasets", "Tiny", "--data-root", str(data), "--scale", "2",
                     "--metrics", "ma,psnr_y", "--out", str(out), "--quiet", "--no-report", "--jobs", "1"]) == 0
        import pandas as pd

        return pd.read_csv(out / "per_image.csv")["ma"].tolist()

    with_first = ma_values("first")
    monkeypatch.setenv("SRBENCH_MA_MODEL", str(second))
    with_second = ma_values("second")
    monkeypatch.setenv("SRBENCH_MA_MODEL", str(first))
    assert ma_values("first-again") == with_first
    assert with_second != pytest.approx(with_first, abs=1e-6)


def test_metric_key_of_a_model_metric_is_stable_across_processes(ma_model):
    # the key is what the cache and the worker check compare: it must not depend on object ids
    import subprocess
    import sys

    ctx = EvalContext.make(4)
    here = metric_key(create_metric("ma_pirm"), ctx)
    code = ("from srbench.metrics import EvalContext, create_metric; from srbench.plan import metric_key; "
            "print(metric_key(create_metric('ma_pirm'), EvalContext.make(4)))")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert there == here
