"""--jobs N: items computed in N worker processes on this machine.

Workers come from a fork server where the platform has one (Linux, macOS): a single process, started
first thing in a run, imports srbench (and torch, when the run's methods or metrics need it) once, and each
worker is forked from it in milliseconds, where a spawned interpreter spends seconds importing torch (per
worker, and all at once on every core). Elsewhere, and when this process's fork server was started for
another thread count, workers are spawned. Nothing is ever forked from the client, which may already run
threads. torch and the BLAS libraries get cores // N threads per worker, so that workers x threads never
exceeds the cores; workers compute from the task alone and write nothing (see srbench/execute/remote.py).
A worker whose client died (the run was killed) exits on its own."""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from . import available_cores, warn
from .remote import Backend, run_task, run_warm

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS")


def plan_workers(jobs: int, cores: int) -> tuple[int, int]:
    """(workers, threads per worker) with workers x threads <= cores."""
    workers = max(1, min(jobs, cores))
    return workers, max(1, cores // workers)


def thread_variables(threads: int) -> dict[str, str]:
    """The environment that limits torch, OpenMP and the BLAS libraries (read at load time) to `threads`."""
    return {name: str(threads) for name in THREAD_VARIABLES}


@contextlib.contextmanager
def thread_environment(threads: int):
    """The thread-count variables set for children started meanwhile."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update(thread_variables(threads))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# what a worker needs; the fork server imports them once, before it forks any worker
WORKER_MODULES = ("srbench.execute.remote", "srbench.metrics.fidelity", "srbench.metrics.gsm",
                  "srbench.metrics.niqe", "srbench.metrics.ma", "srbench.metrics.perceptual_index")
# how this process's fork server was started: (thread count, whether it imported torch); None: not yet
_forkserver_setup: tuple[int, bool] | None = None


def worker_context(threads: int, torch: bool = True):
    """The multiprocessing context workers start from (see the module docstring). `torch`: the workers
    will run torch (a network method, a pyiqa metric), so the fork server imports it for them; without it
    (bicubic and srbench's own metrics) a worker starts in well under a second instead of ~3."""
    global _forkserver_setup
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    if _forkserver_setup is None and getattr(server, "_forkserver_pid", None) is not None:
        return multiprocessing.get_context("spawn")  # someone else's fork server: not ours to preload
    if _forkserver_setup is not None:
        started_threads, has_torch = _forkserver_setup
        if started_threads != threads:
            return multiprocessing.get_context("spawn")
        if has_torch or not torch:
            return multiprocessing.get_context("forkserver")
        server._stop()  # ours, without torch, and this run needs it: one restart beats every worker importing torch
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", *WORKER_MODULES, *(["torch"] if torch else [])])
    with thread_environment(threads):  # BLAS reads its thread count when the server imports numpy
        forkserver.ensure_running()
    _forkserver_setup = (threads, torch)
    return context


def _watch_client() -> None:
    client = multiprocessing.parent_process()  # the client, also for a worker forked by the fork server
    while client is not None and client.is_alive():
        time.sleep(0.2)
    os._exit(1)  # the client is gone (killed): nobody will read what this worker computes


def _init_worker(threads: int, environ: dict) -> None:
    # a forked worker has the environment of the fork server's start; it must see the client's of now
    # (SRBENCH_MA_MODEL, SRBENCH_SHARED, ... as a spawned worker would)
    os.environ.clear()
    os.environ.update(environ)
    if "torch" in sys.modules:  # preloaded; else torch reads OMP_NUM_THREADS (set above) when imported
        sys.modules["torch"].set_num_threads(threads)
    threading.Thread(target=_watch_client, daemon=True, name="srbench-client-watch").start()


class PoolBackend(Backend):
    def __init__(self, workers: int, threads: int, torch: bool = True):
        self.workers, self.threads, self.torch = workers, threads, torch
        self.pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=worker_context(self.threads, self.torch),
                                   initializer=_init_worker, initargs=(self.threads, self._environ()))

    def _environ(self) -> dict:
        return {**os.environ, **thread_variables(self.threads)}

    def submit(self, task):
        # workers are spawned on demand inside submit: the thread variables are set for exactly that
        with thread_environment(self.threads):
            return self.pool.submit(run_task, task)

    def wait(self, handles):
        return wait(handles, return_when=FIRST_COMPLETED).done

    def lost(self, exc: BaseException) -> bool:
        return isinstance(exc, BrokenProcessPool)  # a worker died (killed, out of memory): try once more

    def restart(self) -> "PoolBackend":
        if getattr(self.pool, "_broken", False):
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._start()
        return self

    def window(self) -> int:
        return 2 * self.workers

    def warm(self, metric_names: tuple[str, ...], torch: bool) -> None:
        with thread_environment(self.threads):
            for _ in range(self.workers):  # each submit while no worker is idle spawns one more
                self.pool.submit(run_warm, metric_names, torch)

    def close(self, abandon: bool = False) -> None:
        if abandon:  # nothing to wait for: do not sit through the workers' imports
            processes = list((getattr(self.pool, "_processes", None) or {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(5)
            return
        self.pool.shutdown(wait=True, cancel_futures=True)


def pool_backend(jobs: int, torch: bool = True) -> PoolBackend:
    """The --jobs backend: at most one worker per core, workers x threads <= cores; `torch`: whether
    the workers will run torch (see `worker_context`)."""
    cores = available_cores()
    workers, threads = plan_workers(jobs, cores)
    if workers < jobs:
        warn(f"--jobs {jobs}: only {cores} core(s) available here, using {workers} worker(s)")
    return PoolBackend(workers, threads, torch)
