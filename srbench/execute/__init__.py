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


def execute(plan, config) -> dict:
    from .progress import Progress

    jobs = config.jobs if config.jobs is not None else default_jobs()
    progress = Progress(plan, enabled=config.progress, verbose=getattr(config, "verbose", False))
    try:
        if config.executor == "dask":
            from .dask_cluster import run_dask

            return run_dask(plan, config, jobs, progress)
        if jobs > 1 and len(plan.items) > 1:
            from .pool import run_pool

            return run_pool(plan, config, jobs, progress)
        from .serial import run_serial

        return run_serial(plan, config, progress)
    finally:
        progress.close()
