"""Worker start-up (issue 15): workers start first thing in a run, while the client imports the method
folders and plans, and a run whose methods and metrics run no torch (bicubic with srbench's own metrics)
starts workers that never import torch, which was ~2.3 s of their ~3 s start-up."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import bench_fixtures
from srbench.cli import main
from srbench.evaluate import prepare
from srbench.execute import available_cores
from srbench.execute.pool import WORKER_MODULES
from srbench.execute.remote import Shipper, pack, run_task
from srbench.metrics import EvalContext, create_metric
from srbench.runner import RunConfig

REPO = Path(__file__).resolve().parents[1]
NO_TORCH = "import sys; sys.modules['torch'] = None  # any import of torch raises ImportError\n"


def _config(methods, metrics=None, weights=None) -> RunConfig:
    return RunConfig(out="unused", methods=methods, datasets=["x"], scales=[2], metrics=metrics, weights=weights)


def test_only_network_free_plans_start_workers_without_torch(tmp_path):
    from srbench.execute import workers_need_torch

    assert workers_need_torch(_config(["bicubic"])) is False
    assert workers_need_torch(_config(["bicubic"], ["psnr_y", "niqe", "ma_pirm", "pi"])) is False
    assert workers_need_torch(_config(["bicubic"], ["psnr_y", "pyiqa:lpips"])) is True
    assert workers_need_torch(_config(["bicubic", "srcnn"])) is True  # srcnn: a network (or not yet imported)
    assert workers_need_torch(_config(["all"])) is True
    assert workers_need_torch(_config([f"torch:{tmp_path / 'mine.pth'}"])) is True
    assert workers_need_torch(_config(["no_such_method"])) is True  # unknown here: assume the worst


def _child(tmp_path: Path, code: str, without_torch: bool = False) -> str:
    script = tmp_path / "child.py"
    script.write_text((NO_TORCH if without_torch else "") + textwrap.dedent(code))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()[-1]


def test_a_bicubic_task_computes_in_a_process_without_torch(tmp_path):
    hr = bench_fixtures.hr_pattern(3, 96, 104)
    ctx = EvalContext.make(2)
    metrics = [create_metric(n) for n in ("psnr_y", "ssim_y", "gsm", "niqe")]
    config = RunConfig(out="unused", methods=["bicubic"], datasets=["x"], scales=[2], use_cache=False)
    from srbench.methods import discover_methods

    method = discover_methods().create("bicubic")
    _, task = prepare(method, method.identity(2), hr, "sha", 2, metrics, ctx, config, "img.png", None)
    blob = tmp_path / "task.bin"
    blob.write_bytes(pack(Shipper().task(task)))
    here = run_task(blob.read_bytes())
    assert here.error is None and set(here.values) == {"psnr_y", "ssim_y", "gsm", "niqe"}
    values = _child(tmp_path, f"""
        import json
        from pathlib import Path
        from srbench.execute.remote import run_task
        outcome = run_task(Path({str(blob)!r}).read_bytes())
        assert outcome.error is None, outcome.error
        print(json.dumps(outcome.values))
    """, without_torch=True)
    assert json.loads(values) == here.values  # the same numbers, bit for bit


def test_the_worker_modules_import_without_torch(tmp_path):
    assert _child(tmp_path, f"""
        import importlib
        for name in {list(WORKER_MODULES)!r}:
            importlib.import_module(name)
        print("ok")
    """, without_torch=True) == "ok"


def test_torch_free_workers_then_a_run_that_needs_torch(tmp_path):
    """One process (the fork server is per process): workers without torch, which still get the run's
    thread count when a task imports torch after all; then a run with networks, whose workers have torch."""
    out = _child(tmp_path, """
        import json, sys
        from srbench.execute.pool import pool_backend

        def has_torch():
            return "torch" in sys.modules

        def torch_threads():
            import torch
            return torch.get_num_threads()

        if __name__ == "__main__":
            light = pool_backend(2, torch=False)
            first = [light.pool.submit(has_torch).result(), light.pool.submit(torch_threads).result()]
            light.close()
            heavy = pool_backend(2, torch=True)
            first.append(heavy.pool.submit(has_torch).result())
            heavy.close()
            print(json.dumps(first))
    """)
    cores = available_cores()
    assert json.loads(out) == [False, max(1, cores // min(2, cores)), True]


def test_workers_start_before_the_method_folders_are_imported(tmp_path, monkeypatch):
    import srbench.runner as runner

    data = bench_fixtures.make_dataset(tmp_path, "Tiny", count=2, size=(60, 52))
    bench_fixtures.install(tmp_path / "manifests", monkeypatch.setattr, monkeypatch.setitem)
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    events = []
    start, discover = runner.start_workers, runner.discover_methods
    monkeypatch.setattr(runner, "start_workers", lambda config: events.append("start") or start(config))
    monkeypatch.setattr(runner, "discover_methods", lambda: events.append("discover") or discover())
    argv = ["run", "--methods", "bicubic", "--datasets", "Tiny", "--data-root", str(data), "--scale", "2",
            "--metrics", "psnr_y", "--out", str(tmp_path / "out"), "--quiet", "--no-report", "--jobs", "2"]
    assert main(argv) == 0
    assert events[:2] == ["start", "discover"]
    # a bad option is refused before any worker starts
    events.clear()
    assert main([*argv[:4], "NoSuchSet", *argv[5:]]) == 2
    assert "start" not in events


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_a_method_keeps_its_device_and_pickles_it_by_name(device):
    import pickle

    import torch

    from srbench.methods import discover_methods

    method = discover_methods().create("bicubic", device=device)
    assert method.device == torch.device(device)
    assert pickle.loads(pickle.dumps(method)).device == torch.device(device)
    assert "torch" not in pickle.dumps(method).decode("latin-1")  # no torch object inside
    with pytest.raises(RuntimeError):
        discover_methods().create("bicubic", device="no-such-device")


def test_the_warm_up_imports_torch_only_for_runs_that_need_it(tmp_path):
    """A Dask worker imports torch in its warm-up, while the client plans, not on its first network item."""
    assert _child(tmp_path, """
        import json, sys
        from srbench.execute.remote import run_warm
        run_warm(("psnr_y", "no_such_metric"), torch=False)
        light = "torch" in sys.modules
        run_warm(("psnr_y",), torch=True)
        print(json.dumps([light, "torch" in sys.modules]))
    """) == "[false, true]"
