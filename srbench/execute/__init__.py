"""Executors: they take a plan and return one ItemResult per work item (a dict index -> result).

`serial` runs items one after another in this process and is the reference. `pool` (--jobs N) and `dask`
(--executor dask) run the compute step of items elsewhere while this process, the client, alone reads and
writes the cache and the run folder (see srbench/evaluate.py); they must match the serial tables byte for
byte, which they do by running the same per-item functions and tabulating in plan order."""
from __future__ import annotations

import os

from ..errors import UserError
from ..plan import WorkItem, warn

EXECUTORS = ("local", "dask")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and `taskset` restrict)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_jobs() -> int:
    """--jobs when not given: $SRBENCH_JOBS, else every core this process may use."""
    value = os.environ.get("SRBENCH_JOBS", "").strip()
    if value:
        try:
            jobs = int(value)
        except ValueError:
            raise UserError(f"SRBENCH_JOBS={value!r}: not a whole number") from None
        if jobs < 1:
            raise UserError(f"SRBENCH_JOBS={value!r}: must be at least 1")
        return jobs
    return available_cores()


def report_error(item: WorkItem, message: str) -> None:
    """The stderr line of a failed item: method, dataset, scale, and the file unless the message names it."""
    where = "" if message.startswith(str(item.path)) else f" {item.path}"
    warn(f"error: {item.method} {item.dataset} x{item.scale}{where}: {message}")


class Started:
    """Workers started first thing in a run, so that their start-up (importing, forking, loading the
    metrics' models: seconds) overlaps the client's own imports and planning instead of following them.
    `backend()` waits for them; `close()` stops them, at once when they never got a task (a fully cached
    rerun)."""

    def __init__(self, start, shipper, metric_names: tuple[str, ...], torch: bool):
        from concurrent.futures import ThreadPoolExecutor

        self.shipper = shipper
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="srbench-start")
        self._future = self._thread.submit(self._start, start, metric_names, torch)
        self.used = False

    @staticmethod
    def _start(start, metric_names: tuple[str, ...], torch: bool):
        backend = start()
        try:
            backend.warm(metric_names, torch)
        except Exception:  # noqa: BLE001 - best effort: the items report what is wrong
            pass
        return backend

    def backend(self):
        self.used = True
        return self._future.result()

    def close(self) -> None:
        try:
            backend = self._future.result()
        except Exception:  # it failed to start; backend() raised that to the run already, or nobody asked
            backend = None
        finally:
            self._thread.shutdown(wait=False)
        if backend is not None:
            backend.close(abandon=not self.used)


def workers_need_torch(config) -> bool:
    """Whether the run's workers will run torch: a network method, a pyiqa metric. A run of bicubic with
    srbench's own metrics needs none, and its workers start without importing it (see pool.worker_context).
    Answered before the method folders are discovered (their adapters import torch, seconds): a name not
    registered yet is taken to need torch."""
    if any(name.startswith("pyiqa:") for name in config.metrics or ()):
        return True
    from ..methods import METHODS, bicubic  # noqa: F401 - the built-in baseline registers on import

    for name in config.methods:
        if name not in METHODS or name in (config.weights or {}):
            return True
        if getattr(METHODS.factory(name), "has_network", True):
            return True
    return False


def start_workers(config) -> Started | None:
    """Start the workers of a run that computes elsewhere (--jobs N > 1, --executor dask); None for the
    serial executor."""
    from ..plan import DEFAULT_METRICS
    from .remote import Shipper

    jobs = config.jobs if config.jobs is not None else default_jobs()
    names = tuple(config.metrics) if config.metrics is not None else DEFAULT_METRICS
    torch = workers_need_torch(config)
    if config.executor == "dask":
        from .dask_cluster import DaskBackend, require_distributed

        require_distributed()  # a missing extra is a one-line error now, not on the start-up thread
        return Started(lambda: DaskBackend(config.scheduler, jobs), Shipper(), names, torch)
    if jobs > 1:
        from .pool import pool_backend

        return Started(lambda: pool_backend(jobs, torch), Shipper(), names, torch)
    return None


def execute(plan, config, started: Started | None) -> dict:
    """One ItemResult per item; `started`: what `start_workers` gave for this run (None: serial)."""
    from .progress import Progress

    progress = Progress(plan, enabled=config.progress, verbose=getattr(config, "verbose", False))
    try:
        if started is not None and (config.executor == "dask" or len(plan.items) > 1):
            from .remote import run_remote

            return run_remote(plan, config, started.backend, progress=progress, shipper=started.shipper)
        from .serial import run_serial

        return run_serial(plan, config, progress)
    finally:
        progress.close()
