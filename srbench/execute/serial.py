"""The serial executor: every item in plan order, in this process (the reference)."""
from __future__ import annotations

from ..evaluate import run_item
from . import report_error


def run_serial(plan, config, progress) -> dict:
    results = {}
    for item in plan.items:
        progress.start(item)
        result = run_item(plan, item, config)
        if result.error is not None:
            report_error(item, result.error)
        results[item.index] = result
        progress.done(item, failed=result.error is not None)
    return results
