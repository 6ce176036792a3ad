"""Executors: they take a plan and return one ItemResult per work item (a dict index -> result).

`serial` runs items one after another in this process and is the reference every other executor must
match byte for byte in the tables."""
from __future__ import annotations

from ..plan import WorkItem, warn


def report_error(item: WorkItem, message: str) -> None:
    """The stderr line of a failed item: method, dataset, scale, and the file unless the message names it."""
    where = "" if message.startswith(str(item.path)) else f" {item.path}"
    warn(f"error: {item.method} {item.dataset} x{item.scale}{where}: {message}")


def execute(plan, config) -> dict:
    from .serial import run_serial

    return run_serial(plan, config)
