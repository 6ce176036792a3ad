"""Fault injection: `srbench run` killed with SIGKILL at random points, rerun each time, must end with
tables byte-identical to an uninterrupted run and leave no partial files in the cache or the run folder.

The default test forks each run from a warm server process (tests/forkserver.py) so that 10 kills fit a
normal test run; the `slow` variant starts a fresh `python -m srbench.cli` for every run instead.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bench_fixtures
from srbench.atomic import partial_files

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
KILLS = 10
TABLES = ("per_image.csv", "summary.csv", "errors.csv")


def _metrics() -> str:
    """psnr_y, ssim_y, rmse, and niqe when it is registered and its model file is here."""
    from srbench.errors import SrbenchError
    from srbench.metrics import load_builtin_metrics

    names = ["psnr_y", "ssim_y", "rmse"]
    registry = load_builtin_metrics()
    if "niqe" in registry:
        try:
            registry.create("niqe").prepare()
            names.append("niqe")
        except SrbenchError:
            pass
    return ",".join(names)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _leftovers(*roots: Path) -> list[str]:
    """Partial files, and any hidden file (temp files are hidden), under the roots."""
    found = []
    for root in roots:
        found += [str(p) for p in partial_files(root)]
        found += [str(p) for p in root.rglob(".*") if root.exists()]
    return sorted(set(found))


def _same_results(run: Path, clean: Path) -> list[str]:
    """Names of what differs: the tables byte for byte, and every SR image the run folder holds."""
    diff = [t for t in TABLES if (run / t).read_bytes() != (clean / t).read_bytes()]
    if _tree(run / "sr") != _tree(clean / "sr"):
        diff.append("sr/")
    return diff


class ForkServer:
    def __init__(self, manifest_dir: Path):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(TESTS)]), OMP_NUM_THREADS="1")
        self.proc = subprocess.Popen([sys.executable, str(TESTS / "forkserver.py"), str(manifest_dir)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        assert json.loads(self.proc.stdout.readline()) == {"ready": True}

    def run(self, argv, cache: Path, log: Path, kill_after=None) -> dict:
        request = {"argv": argv, "env": {"SRBENCH_CACHE": str(cache)}, "log": str(log), "kill_after": kill_after}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the fork server needs os.fork (POSIX)")
def test_kill_and_resume_gives_identical_tables(tmp_path, monkeypatch):
    data_root = bench_fixtures.make_dataset(tmp_path, "Tiny", count=6, size=(100, 96))
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "unused-cache"))
    metrics = _metrics()

    def argv(out: Path, *extra: str) -> list[str]:
        return ["run", "--methods", "bicubic,tinynet", "--datasets", "Tiny", "--data-root", str(data_root),
                "--scale", "2,4", "--metrics", metrics, "--out", str(out), "--quiet", "--no-report", *extra]

    server = ForkServer(tmp_path / "manifests")
    try:
        clean, clean_cache = tmp_path / "clean", tmp_path / "clean-cache"
        first = server.run(argv(clean), clean_cache, tmp_path / "clean.log")
        assert first["rc"] == 0, (tmp_path / "clean.log").read_text()
        duration = first["elapsed"]

        # --no-cache recomputes everything and must agree with the cached path, writing no cache at all
        nocache_cache = tmp_path / "nocache-cache"
        result = server.run(argv(tmp_path / "nocache", "--no-cache"), nocache_cache, tmp_path / "nocache.log")
        assert result["rc"] == 0, (tmp_path / "nocache.log").read_text()
        assert _same_results(tmp_path / "nocache", clean) == []
        assert not nocache_cache.exists() or not any(nocache_cache.rglob("*.*"))

        rng = random.Random(20261125)
        kills, completions, comparisons, attempts, chains = 0, 0, [], 0, 0
        out = cache = None
        kill_points = []
        while kills < KILLS:
            attempts += 1
            assert attempts < 6 * KILLS, f"only {kills} kills landed in {attempts} attempts"
            if out is None:  # a new chain: empty cache and run folder
                chains += 1
                out, cache = tmp_path / f"run{chains}", tmp_path / f"cache{chains}"
            delay = rng.uniform(0.0, duration)
            result = server.run(argv(out), cache, tmp_path / f"attempt{attempts}.log", kill_after=delay)
            if result["killed"]:
                kills += 1
                kill_points.append(round(delay / duration, 3))
                continue
            # the rerun finished before its kill point: the chain is complete, compare it
            assert result["rc"] == 0, (tmp_path / f"attempt{attempts}.log").read_text()
            completions += 1
            comparisons.append(_same_results(out, clean))
            assert _leftovers(out, cache) == []
            out = None
        if out is not None:  # rerun the last killed chain to completion
            result = server.run(argv(out), cache, tmp_path / "final.log")
            assert result["rc"] == 0, (tmp_path / "final.log").read_text()
            comparisons.append(_same_results(out, clean))
            assert _leftovers(out, cache) == []
    finally:
        server.close()

    print(f"\nkill/resume: {kills} SIGKILLs at fractions {kill_points} of a {duration:.2f}s run, "
          f"{len(comparisons)} resumed runs compared with the clean run, "
          f"{sum(1 for c in comparisons if not c)} identical (per_image.csv, summary.csv, errors.csv, sr/)")
    assert kills == KILLS
    assert comparisons and all(c == [] for c in comparisons), comparisons


def _delete_some_cache_files(cache: Path, rng: random.Random, fraction: float = 0.3) -> list[str]:
    """Delete a random subset of the cache's files (records, SR images, native Y planes, their meta files,
    LR images): any partial loss must be recomputed to the same results."""
    files = sorted(p for p in cache.rglob("*") if p.is_file()) if cache.exists() else []
    chosen = [p for p in files if rng.random() < fraction]
    for path in chosen:
        path.unlink()
    return [str(p.relative_to(cache)) for p in chosen]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the fork server needs os.fork (POSIX)")
def test_kill_and_resume_with_random_cache_deletions(tmp_path, monkeypatch):
    """Issue 14: SIGKILLs plus random deletion of cache files between the runs; the resumed tables and SR
    images equal a clean run's."""
    data_root = bench_fixtures.make_dataset(tmp_path, "Tiny", count=3, size=(100, 96))
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "unused-cache"))
    metrics = _metrics()

    def argv(out: Path) -> list[str]:
        return ["run", "--methods", "bicubic,tinynet", "--datasets", "Tiny", "--data-root", str(data_root),
                "--scale", "2,4", "--metrics", metrics, "--out", str(out), "--quiet", "--no-report"]

    server = ForkServer(tmp_path / "manifests")
    rng = random.Random(14)
    deleted_total, kills = 0, 0
    try:
        clean = tmp_path / "clean"
        first = server.run(argv(clean), tmp_path / "clean-cache", tmp_path / "clean.log")
        assert first["rc"] == 0, (tmp_path / "clean.log").read_text()
        duration = first["elapsed"]
        out, cache = tmp_path / "run", tmp_path / "cache"
        for attempt in range(6):
            result = server.run(argv(out), cache, tmp_path / f"del{attempt}.log",
                                kill_after=rng.uniform(0.05, 0.6) * duration if attempt % 2 == 0 else None)
            kills += bool(result["killed"])
            if not result["killed"]:
                assert result["rc"] == 0, (tmp_path / f"del{attempt}.log").read_text()
                assert _same_results(out, clean) == [], attempt
            deleted_total += len(_delete_some_cache_files(cache, rng))
        result = server.run(argv(out), cache, tmp_path / "del-final.log")
        assert result["rc"] == 0, (tmp_path / "del-final.log").read_text()
        assert _same_results(out, clean) == []
        assert _leftovers(out, cache) == []
    finally:
        server.close()
    print(f"\nkill/resume with deletions: {kills} SIGKILLs, {deleted_total} cache files deleted, tables identical")
    assert deleted_total > 0


@pytest.mark.slow
def test_kill_and_resume_fresh_interpreters(tmp_path):
    """The same with a new `python -m srbench.cli` process per run and the real method discovery."""
    methods_dir = tmp_path / "methods"
    (methods_dir / "tinynet").mkdir(parents=True)
    (methods_dir / "tinynet" / "__init__.py").write_text(
        "from srbench.methods import register_method\nfrom bench_fixtures import TinyNet\n"
        "register_method('tinynet')(TinyNet)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(TESTS)]), OMP_NUM_THREADS="1",
               SRBENCH_METHODS_DIR=str(methods_dir))

    def run(out: Path, cache: Path, kill_after=None) -> tuple[bool, int]:
        # --datasets default: the embedded set, whose cached copy is itself built atomically
        cmd = [sys.executable, "-m", "srbench.cli", "run", "--methods", "bicubic,tinynet", "--datasets",
               "default", "--scale", "4", "--metrics", "psnr_y,ssim_y,rmse", "--out", str(out), "--quiet",
               "--no-report"]
        proc = subprocess.Popen(cmd, env=dict(env, SRBENCH_CACHE=str(cache)), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, cwd=tmp_path)
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        return proc.returncode == -signal.SIGKILL, proc.returncode

    start = time.monotonic()
    killed, rc = run(tmp_path / "clean", tmp_path / "clean-cache")
    duration = time.monotonic() - start
    assert rc == 0
    rng = random.Random(7)
    kills = 0
    out, cache = tmp_path / "run", tmp_path / "cache"
    while kills < KILLS:
        killed, rc = run(out, cache, kill_after=rng.uniform(0.0, duration))
        if killed:
            kills += 1
            continue
        assert rc == 0
        assert _same_results(out, tmp_path / "clean") == []
        shutil.rmtree(out)
        shutil.rmtree(cache)
    killed, rc = run(out, cache)
    assert rc == 0
    assert _same_results(out, tmp_path / "clean") == []
    assert _leftovers(out, cache / "results", cache / "sr", cache / "lr") == []
    print(f"\nkill/resume (fresh interpreters): {kills} SIGKILLs, final tables identical")


JOBS_KILLS = 4


@pytest.mark.slow  # each run starts two worker interpreters: ~1 min on an idle 2-core machine, 5 under load
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the fork server needs os.fork (POSIX)")
def test_kill_and_resume_with_jobs_2(tmp_path, monkeypatch):
    """The same fault injection with two worker processes: the client, killed at random points while its
    workers compute, resumes to tables and SR images identical to an uninterrupted serial run, and no
    partial file is left (only the client writes; its workers exit when it dies)."""
    data_root = bench_fixtures.make_dataset(tmp_path, "Tiny", count=6, size=(100, 96))
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "unused-cache"))

    def argv(out: Path, jobs: str) -> list[str]:
        return ["run", "--methods", "bicubic,tinynet", "--datasets", "Tiny", "--data-root", str(data_root),
                "--scale", "2,4", "--metrics", "psnr_y,ssim_y,rmse", "--out", str(out), "--quiet", "--no-report",
                "--jobs", jobs]

    server = ForkServer(tmp_path / "manifests")
    try:
        clean = tmp_path / "clean"
        result = server.run(argv(clean, "1"), tmp_path / "clean-cache", tmp_path / "clean.log")
        assert result["rc"] == 0, (tmp_path / "clean.log").read_text()
        timed = server.run(argv(tmp_path / "timed", "2"), tmp_path / "timed-cache", tmp_path / "timed.log")
        assert timed["rc"] == 0, (tmp_path / "timed.log").read_text()
        assert _same_results(tmp_path / "timed", clean) == []
        duration = timed["elapsed"]

        rng = random.Random(20261201)
        out, cache = tmp_path / "run", tmp_path / "cache"
        kills, attempts, kill_points = 0, 0, []
        while kills < JOBS_KILLS:
            attempts += 1
            assert attempts < 6 * JOBS_KILLS, f"only {kills} kills landed in {attempts} attempts"
            delay = rng.uniform(0.0, duration)
            result = server.run(argv(out, "2"), cache, tmp_path / f"attempt{attempts}.log", kill_after=delay)
            if result["killed"]:
                kills += 1
                kill_points.append(round(delay / duration, 3))
                continue
            assert result["rc"] == 0, (tmp_path / f"attempt{attempts}.log").read_text()
            assert _same_results(out, clean) == []
            shutil.rmtree(out)
            shutil.rmtree(cache)
        result = server.run(argv(out, "2"), cache, tmp_path / "final.log")
        assert result["rc"] == 0, (tmp_path / "final.log").read_text()
        assert _same_results(out, clean) == []
        assert _leftovers(out, cache) == []
    finally:
        server.close()
    print(f"\nkill/resume --jobs 2: {kills} SIGKILLs at fractions {kill_points} of a {duration:.2f}s run, "
          "resumed tables and SR images identical to the serial run")
