"""Tabulation: item results, in plan order, into per_image.csv, summary.csv and errors.csv.

Rows follow the plan, never the order items completed in, so every executor writes the same bytes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .imageio import write_text_atomic
from .metrics import Metric
from .plan import Plan

KEY_COLUMNS = ["method", "dataset", "scale", "image"]
ERROR_COLUMNS = ["method", "dataset", "scale", "image", "error"]


def item_rows(plan: Plan, results: dict) -> tuple[list[dict], list[dict]]:
    """(per-image rows, error rows) in plan order; `results` maps item index -> ItemResult. A planning error
    (a method that failed at a scale) comes before the items that follow it in the plan."""
    rows, errors = [], []
    pending = sorted(plan.errors, key=lambda e: e.position)  # stable: same-position errors keep their order
    k = 0
    for item in plan.items:
        while k < len(pending) and pending[k].position <= item.index:
            errors.append(pending[k].row)
            k += 1
        result = results[item.index]
        key = {"method": item.method, "dataset": item.dataset, "scale": item.scale, "image": item.image}
        if result.error is not None:
            errors.append({**key, "error": result.error})
        else:
            rows.append({**key, **result.values})
    errors += [e.row for e in pending[k:]]
    return rows, errors


def summarise(per_image: pd.DataFrame, metrics: list[Metric]) -> pd.DataFrame:
    rows = []
    if not per_image.empty:
        for (method, dataset, scale), group in per_image.groupby(["method", "dataset", "scale"], sort=False):
            row = {"method": method, "dataset": dataset, "scale": scale}
            for m in metrics:
                row[m.name] = m.aggregate(group[m.name].to_numpy(dtype=np.float64))
            rows.append(row)
    return pd.DataFrame(rows, columns=["method", "dataset", "scale"] + [m.name for m in metrics])


def tabulate(plan: Plan, results: dict) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    rows, errors = item_rows(plan, results)
    per_image = pd.DataFrame(rows, columns=KEY_COLUMNS + [m.name for m in plan.metrics])
    return per_image, summarise(per_image, plan.metrics), errors


def write_tables(out: Path, per_image: pd.DataFrame, summary: pd.DataFrame, errors: list[dict]) -> None:
    # repr-exact floats so that two runs (or a resumed run) give byte-identical tables
    write_text_atomic(out / "per_image.csv", per_image.to_csv(index=False, float_format="%.17g"))
    write_text_atomic(out / "summary.csv", summary.to_csv(index=False, float_format="%.17g"))
    err = pd.DataFrame(errors, columns=ERROR_COLUMNS)
    write_text_atomic(out / "errors.csv", err.to_csv(index=False))
