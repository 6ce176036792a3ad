"""The serial executor: every item in plan order, in this process (the reference)."""
from __future__ import annotations

import sys
from itertools import groupby

from ..evaluate import run_item
from . import report_error


def run_serial(plan, config) -> dict:
    from tqdm import tqdm

    results = {}
    for (method, dataset, scale), group in groupby(plan.items, key=lambda i: (i.method, i.dataset, i.scale)):
        group = list(group)
        for item in tqdm(group, desc=f"{method} {dataset} x{scale}", unit="img", leave=False,
                         disable=not config.progress, file=sys.stderr):
            result = run_item(plan, item, config)
            if result.error is not None:
                report_error(item, result.error)
            results[item.index] = result
    return results
