"""--jobs N: items computed in N worker processes on this machine.

Workers are started with `spawn` (a fresh interpreter: no state forked from a process that already runs
threads) and with torch and the BLAS libraries limited to cores // N threads each, so that workers x threads
never exceeds the cores; they compute from the task alone and write nothing (see srbench/execute/remote.py).
A worker whose parent died (the run was killed) exits on its own."""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from . import available_cores, warn
from .remote import Backend, run_remote, run_task

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS")


def plan_workers(jobs: int, cores: int) -> tuple[int, int]:
    """(workers, threads per worker) with workers x threads <= cores."""
    workers = max(1, min(jobs, cores))
    return workers, max(1, cores // workers)


@contextlib.contextmanager
def thread_environment(threads: int):
    """The thread-count variables children inherit (read by the BLAS and OpenMP libraries at load time)."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: str(threads) for name in THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)  # the client is gone (killed): nobody will read what this worker computes
        time.sleep(0.2)


def _init_worker(threads: int, parent: int) -> None:
    import torch

    torch.set_num_threads(threads)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="srbench-parent-watch").start()


class PoolBackend(Backend):
    def __init__(self, workers: int, threads: int):
        self.workers, self.threads = workers, threads
        self.pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(self.threads, os.getpid()))

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

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def run_pool(plan, config, jobs: int, progress) -> dict:
    cores = available_cores()
    workers, threads = plan_workers(jobs, cores)
    if workers < jobs:
        warn(f"--jobs {jobs}: only {cores} core(s) available here, using {workers} worker(s)")
    return run_remote(plan, config, lambda: PoolBackend(workers, threads), window=2 * workers, progress=progress)
