"""Executors: --jobs N worker processes and --executor dask give the serial executor's tables and SR
images byte for byte, build a method's network once per worker, keep workers x threads <= cores, and a Dask
worker killed mid-run neither loses nor duplicates a row."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bench_fixtures
import executor_fixtures
from srbench.cli import main
from srbench.execute import available_cores, default_jobs
from srbench.execute.pool import plan_workers

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
TABLES = ("per_image.csv", "summary.csv", "errors.csv")
METRICS = "psnr_y,ssim_y,rmse"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _results(out: Path) -> dict[str, bytes]:
    """Tables and SR images of a run folder (run.json differs by its config, so it is left out)."""
    found = {t: (out / t).read_bytes() for t in TABLES}
    found.update({f"sr/{k}": v for k, v in _tree(out / "sr").items()})
    return found


@pytest.fixture
def bench(tmp_path, monkeypatch):
    """`srbench run` in this process on a 5-image set; every run gets an empty cache of its own."""
    data = bench_fixtures.make_dataset(tmp_path, "Tiny", count=5, size=(60, 52))
    bench_fixtures.install(tmp_path / "manifests", monkeypatch.setattr, monkeypatch.setitem)
    executor_fixtures.install(monkeypatch)

    def run(name: str, *extra: str, methods: str = "bicubic,tinynet,crash_net", rc: int | None = None) -> Path:
        monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / f"cache-{name}"))
        out = tmp_path / name
        argv = ["run", "--methods", methods, "--datasets", "Tiny", "--data-root", str(data), "--scale", "2,4",
                "--metrics", METRICS, "--out", str(out), "--quiet", "--no-report", *extra]
        code = main(argv)
        assert code == (rc if rc is not None else code)
        return out

    run.tmp = tmp_path
    return run


def test_jobs_tables_identical_to_serial(bench):
    # crash_net fails every item: errors.csv must list them in plan order too
    serial = bench("serial", "--jobs", "1", rc=1)
    parallel = bench("jobs2", "--jobs", "2", rc=1)
    assert (serial / "errors.csv").read_text().count("simulated failure") == 10
    assert _results(parallel) == _results(serial)
    # a rerun on the warm cache computes nothing and gives the same bytes again
    again = bench("jobs2", "--jobs", "2", rc=1)
    assert _results(again) == _results(serial)


def test_network_built_once_per_worker_with_bounded_threads(bench, monkeypatch):
    log = bench.tmp / "builds.log"
    monkeypatch.setenv("SRBENCH_TEST_BUILD_LOG", str(log))
    bench("jobs2", "--jobs", "2", methods="buildlog", rc=0)
    builds = [line.split() for line in log.read_text().splitlines()]
    client = [b for b in builds if int(b[0]) == os.getpid()]
    workers = [b for b in builds if int(b[0]) != os.getpid()]
    assert sorted(int(b[1]) for b in client) == [2, 4]  # the plan builds once per scale for the identity
    per_worker = {}
    for pid, scale, threads in workers:
        per_worker.setdefault(pid, []).append(int(scale))
        assert int(threads) == max(1, available_cores() // min(2, available_cores()))
    assert 1 <= len(per_worker) <= 2
    for scales in per_worker.values():  # 10 items, but at most one build per scale in each worker
        assert sorted(scales) == sorted(set(scales))


def test_worker_plan_never_exceeds_cores():
    for jobs in range(1, 10):
        for cores in range(1, 9):
            workers, threads = plan_workers(jobs, cores)
            assert workers * threads <= cores and workers >= 1 and threads >= 1
            assert workers == min(jobs, cores)
    assert plan_workers(2, 8) == (2, 4)


def test_default_jobs_is_the_affinity(monkeypatch):
    monkeypatch.delenv("SRBENCH_JOBS", raising=False)
    assert default_jobs() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("SRBENCH_JOBS", "3")
    assert default_jobs() == 3


def test_bad_jobs_and_scheduler_without_dask_are_refused(bench, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--jobs", "0"])
    assert exc.value.code == 2
    assert main(["run", "--scheduler", "tcp://127.0.0.1:1", "--quiet", "--no-report"]) == 2
    assert "only with --executor dask" in capsys.readouterr().err


def test_dask_refused_in_one_line_without_distributed(bench, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert main(["run", "--executor", "dask", "--quiet", "--no-report"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["srbench: error: --executor dask needs Dask distributed, which is not installed "
                   "(pip install 'srbench[dask]')"]


def test_dask_local_cluster_tables_identical_to_serial(bench):
    pytest.importorskip("distributed")
    serial = bench("serial", "--jobs", "1", rc=1)
    dask = bench("dask", "--executor", "dask", "--jobs", "2", rc=1)
    assert _results(dask) == _results(serial)


# ------------------------------------------------------------------ a real scheduler and two workers

def test_local_cluster_workers_run_without_the_profiler_and_fast_polling():
    """The LocalCluster's workers get QUIET_MONITORS (their stack profiler alone cost 9% of a run)."""
    pytest.importorskip("distributed")
    from srbench.execute.dask_cluster import QUIET_MONITORS, DaskBackend

    backend = DaskBackend(None, 2)
    try:
        def settings():
            import dask

            return {key: dask.config.get(key) for key in (*QUIET_MONITORS, "distributed.worker.profile.enabled")}
        seen = backend.client.run(settings)
    finally:
        backend.close()
    assert len(seen) == 2, seen
    for found in seen.values():
        assert found["distributed.worker.profile.enabled"] is False
        assert {key: found[key] for key in QUIET_MONITORS} == QUIET_MONITORS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _slownet_methods(tmp_path: Path) -> Path:
    """A methods folder (SRBENCH_METHODS_DIR) holding SlowNet, for srbench processes started by a test."""
    methods_dir = tmp_path / "methods"
    (methods_dir / "slownet").mkdir(parents=True)
    (methods_dir / "slownet" / "__init__.py").write_text(
        "from srbench.methods import register_method\nfrom executor_fixtures import SlowNet\n"
        "register_method('slownet')(SlowNet)\n")
    return methods_dir


@pytest.mark.slow
def test_dask_scheduler_two_workers_one_killed_mid_run(tmp_path):
    distributed = pytest.importorskip("distributed")
    data = bench_fixtures.make_dataset(tmp_path, "Tiny", count=6, size=(60, 52))
    methods_dir = _slownet_methods(tmp_path)
    pythonpath = os.pathsep.join([str(REPO), str(TESTS)])
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("SRBENCH_")}
    base_env.update(PYTHONPATH=pythonpath, OMP_NUM_THREADS="1")
    # the workers get neither the datasets nor the client's cache: an empty cache folder of their own
    worker_env = dict(base_env, SRBENCH_CACHE=str(tmp_path / "worker-cache"), SRBENCH_METHODS_DIR=str(methods_dir))
    client_env = dict(base_env, SRBENCH_METHODS_DIR=str(methods_dir))
    dask_bin = [sys.executable, "-m", "distributed.cli"]
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: dict[str, subprocess.Popen] = {}
    logs = {}

    def start(name, argv):
        logs[name] = open(tmp_path / f"{name}.log", "wb")
        procs[name] = subprocess.Popen(argv, env=worker_env, stdout=logs[name], stderr=subprocess.STDOUT)

    def srbench(out: Path, *extra: str) -> subprocess.Popen:
        cmd = [sys.executable, "-m", "srbench.cli", "run", "--methods", "bicubic,slownet", "--datasets", "Tiny",
               "--data-root", str(data), "--scale", "2,4", "--metrics", METRICS, "--out", str(out), "--quiet",
               "--no-report", *extra]
        return subprocess.Popen(cmd, env=dict(client_env, SRBENCH_CACHE=str(out) + "-cache"),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    try:
        reference = srbench(tmp_path / "serial", "--jobs", "1")
        start("scheduler", [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                            "--port", str(port), "--dashboard-address", "127.0.0.1:0", "--no-show"])
        for name in ("wA", "wB"):
            start(name, [sys.executable, "-m", "distributed.cli.dask_worker", address, "--name", name,
                         "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", "--no-dashboard"])
        observer = distributed.Client(address, timeout="60s")
        try:
            _wait_for(lambda: len(observer.scheduler_info()["workers"]) == 2, 120, "two workers")
            by_name = {w["name"]: a for a, w in observer.scheduler_info()["workers"].items()}
            run = srbench(tmp_path / "dask", "--executor", "dask", "--scheduler", address)
            # kill worker A while it computes an item (the scheduler lists it as processing)
            _wait_for(lambda: observer.processing().get(by_name["wA"]), 180, "worker A to get a task")
            procs["wA"].send_signal(signal.SIGKILL)
            procs["wA"].wait()
            output = run.communicate(timeout=300)[0].decode()
            assert run.returncode == 0, output
            assert list(observer.scheduler_info()["workers"]) == [by_name["wB"]]
        finally:
            observer.close()
        reference_output = reference.communicate(timeout=300)[0].decode()
        assert reference.returncode == 0, reference_output
        assert _results(tmp_path / "dask") == _results(tmp_path / "serial")  # no row lost or duplicated
        per_image = (tmp_path / "dask" / "per_image.csv").read_text().splitlines()
        assert len(per_image) == 1 + 2 * 2 * 6
        assert not (tmp_path / "worker-cache").exists()  # the workers wrote nothing
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
        for fh in logs.values():
            fh.close()


def test_one_overall_progress_bar_and_verbose_lines(bench, capsys):
    bench("serial", "--jobs", "1", methods="bicubic,tinynet", rc=0)
    capsys.readouterr()
    out = bench.tmp / "verbose"
    assert main(["run", "--methods", "bicubic,tinynet", "--datasets", "Tiny", "--scale", "2,4", "--metrics",
                 METRICS, "--out", str(out), "--no-report", "--jobs", "1", "--verbose",
                 "--data-root", str(bench.tmp / "data")]) == 0
    err = capsys.readouterr().err
    assert "20/20 items" in err and "srbench: tinynet Tiny x4: done in" in err
    assert err.count("done in") == 4  # one line per method x dataset x scale
    assert "img/s" not in err  # no per-method bars any more


def test_torch_checkpoint_method_runs_in_workers(bench):
    """A `torch:PATH --arch NAME` method crosses to --jobs workers (its ArchSpec holds lambdas, which do
    not pickle: it travels by name) and gives the serial tables."""
    import torch

    from srbench.archs.msrresnet import MSRResNet

    ckpt = bench.tmp / "mine.pth"
    torch.manual_seed(0)
    torch.save(MSRResNet(scale=4, num_block=1, num_feat=8).state_dict(), ckpt)
    methods = f"bicubic,torch:{ckpt}"
    # rc 1 in both: the x4 checkpoint does not load at x2 (one line); x4 must run in the workers
    serial = bench("t-serial", "--jobs", "1", "--arch", "MSRResNet", methods=methods, rc=1)
    parallel = bench("t-jobs2", "--jobs", "2", "--arch", "MSRResNet", methods=methods, rc=1)
    assert "Pickl" not in (parallel / "errors.csv").read_text()
    assert ",mine,Tiny,4," not in "," + (parallel / "errors.csv").read_text().replace("\n", ",")
    assert (parallel / "per_image.csv").read_text().count("mine,Tiny,4,") == 5
    assert _results(parallel) == _results(serial)


def test_workers_get_the_environment_of_the_run_not_of_the_fork_server(bench, monkeypatch):
    # the first --jobs run of this process starts the fork server, with the environment of then
    bench("first", "--jobs", "2", methods="bicubic,tinynet", rc=0)
    log = bench.tmp / "builds.log"
    monkeypatch.setenv("SRBENCH_TEST_BUILD_LOG", str(log))  # set after the server started
    bench("second", "--jobs", "2", methods="buildlog", rc=0)
    workers = {line.split()[0] for line in log.read_text().splitlines()} - {str(os.getpid())}
    assert workers, "no worker saw SRBENCH_TEST_BUILD_LOG"


def test_a_fully_cached_rerun_leaves_no_worker_behind(bench):
    import multiprocessing

    first = bench("cached", "--jobs", "2", methods="bicubic,tinynet", rc=0)
    again = bench("cached", "--jobs", "2", methods="bicubic,tinynet", rc=0)  # same cache: nothing to compute
    assert _results(again) == _results(first)
    assert multiprocessing.active_children() == []


@pytest.mark.slow
def test_workers_exit_when_the_client_is_killed(tmp_path):
    psutil = pytest.importorskip("psutil")
    data = bench_fixtures.make_dataset(tmp_path, "Tiny", count=8, size=(60, 52))
    methods_dir = _slownet_methods(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SRBENCH_")}
    env.update(PYTHONPATH=os.pathsep.join([str(REPO), str(TESTS)]), SRBENCH_METHODS_DIR=str(methods_dir),
               SRBENCH_CACHE=str(tmp_path / "cache"))
    client = subprocess.Popen([sys.executable, "-m", "srbench.cli", "run", "--methods", "slownet", "--datasets",
                               "Tiny", "--data-root", str(data), "--scale", "2", "--metrics", METRICS, "--out",
                               str(tmp_path / "out"), "--quiet", "--no-report", "--jobs", "2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        me = psutil.Process(client.pid)
        # workers (forked by the fork server, or spawned) are descendants of the client; wait until
        # one of them computes (SlowNet sleeps in its forward pass)
        _wait_for(lambda: len(me.children(recursive=True)) >= 2, 120, "worker processes")
        descendants = me.children(recursive=True)
        time.sleep(1.0)
        client.send_signal(signal.SIGKILL)
        client.wait()
        gone, alive = psutil.wait_procs(descendants, timeout=15)
        assert alive == [], f"still running after the client was killed: {[p.pid for p in alive]}"
    finally:
        if client.poll() is None:
            client.kill()
