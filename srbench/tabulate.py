"""Tabulation: item results, in plan order, into per_image.csv, summary.csv and errors.csv.

Rows follow the plan, never the order items completed in, so every executor writes the same bytes.

Coverage (what h16's report and any reader of the CSVs can rely on):
- per_image.csv: one row per image with at least one metric value; a metric that failed alone on that
  image leaves its cell empty.
- errors.csv: `method, dataset, scale, image, metric, error`; `metric` is empty when the whole item failed
  (image `*`: the method failed for the whole dataset) and names the metric when only that metric failed.
- summary.csv: `method, dataset, scale, images, failed`, then the metrics. `images` = images evaluated (rows
  of per_image.csv), `failed` = images of the dataset that gave no row at all. Every (method, dataset,
  scale) the run planned has a row, a method that produced nothing included (images 0, metrics empty).
  When any metric failed alone anywhere in the run, every metric `m` also gets a column `m_n`: the number
  of images whose value entered `m`'s dataset value. A dataset value is computed over finite per-image
  values only (there are no others: `metrics.base.evaluate_metric` refuses them) and is empty when there
  are none.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .imageio import write_text_atomic
from .metrics import Metric
from .metrics.base import finite_aggregate
from .plan import Plan
from .run_layout import COUNT_COLUMNS, COUNT_SUFFIX, count_columns  # noqa: F401 (one definition, shared with readers)

KEY_COLUMNS = ["method", "dataset", "scale", "image"]
ERROR_COLUMNS = ["method", "dataset", "scale", "image", "metric", "error"]
GROUP_COLUMNS = ["method", "dataset", "scale"]
def item_rows(plan: Plan, results: dict) -> tuple[list[dict], list[dict], list[tuple]]:
    """(per-image rows, error rows, groups) in plan order; `results` maps item index -> ItemResult. A planning
    error (a method that failed at a scale) comes before the items that follow it in the plan. `groups`
    lists every (method, dataset, scale) in order of first appearance."""
    rows, errors, groups = [], [], {}
    pending = sorted(plan.errors, key=lambda e: e.position)  # stable: same-position errors keep their order
    k = 0

    def planned_error(row):
        errors.append(row)
        groups.setdefault((row["method"], row["dataset"], row["scale"]), None)

    for item in plan.items:
        while k < len(pending) and pending[k].position <= item.index:
            planned_error(pending[k].row)
            k += 1
        groups.setdefault((item.method, item.dataset, item.scale), None)
        result = results[item.index]
        key = {"method": item.method, "dataset": item.dataset, "scale": item.scale, "image": item.image}
        if result.error is not None:
            errors.append({**key, "metric": "", "error": result.error})
            continue
        rows.append({**key, **result.values})
        for metric in plan.metrics:  # plan order of the metrics, whatever order the failures came in
            if metric.name in result.failures:
                errors.append({**key, "metric": metric.name, "error": result.failures[metric.name]})
    for e in pending[k:]:
        planned_error(e.row)
    return rows, errors, list(groups)


def summarise(per_image: pd.DataFrame, metrics: list[Metric], errors: list[dict] | None = None,
              groups: list[tuple] | None = None) -> pd.DataFrame:
    """Dataset-level values with their coverage (see the module docstring for the columns)."""
    errors = errors or []
    if groups is None:
        groups = list(dict.fromkeys(map(tuple, per_image[GROUP_COLUMNS].itertuples(index=False, name=None))))
    failed: dict[tuple, int] = {}
    for e in errors:
        if e.get("metric"):
            continue  # a metric that failed alone: the image is evaluated, counted in `<metric>_n`
        key = (e["method"], e["dataset"], e["scale"])
        failed[key] = failed.get(key, 0) + (int(e.get("images", 0)) if e["image"] == "*" else 1)
    per_metric_counts = any(e.get("metric") for e in errors)
    names = [m.name for m in metrics]
    columns = GROUP_COLUMNS + COUNT_COLUMNS + names + ([n + COUNT_SUFFIX for n in names] if per_metric_counts else [])
    by_group = {key: group for key, group in per_image.groupby(GROUP_COLUMNS, sort=False)} if not per_image.empty else {}
    rows = []
    for key in groups:
        group = by_group.get(key)
        row = dict(zip(GROUP_COLUMNS, key), images=0 if group is None else len(group), failed=failed.get(key, 0))
        for m in metrics:
            values = np.array([], np.float64) if group is None else group[m.name].to_numpy(dtype=np.float64)
            row[m.name], count = finite_aggregate(m, values)
            if per_metric_counts:
                row[m.name + COUNT_SUFFIX] = count
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def tabulate(plan: Plan, results: dict) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    rows, errors, groups = item_rows(plan, results)
    _report_metric_failures(plan, errors)
    per_image = pd.DataFrame(rows, columns=KEY_COLUMNS + [m.name for m in plan.metrics])
    return per_image, summarise(per_image, plan.metrics, errors, groups), errors


def _report_metric_failures(plan: Plan, errors: list[dict]) -> None:
    """One stderr line per metric that failed alone (executors report whole-item failures as they happen;
    these are reported here, once, whatever executor ran the items)."""
    from .execute import report_error

    paths = {(i.method, i.dataset, i.scale, i.image): i for i in plan.items}
    for e in errors:
        if e.get("metric"):
            report_error(paths[(e["method"], e["dataset"], e["scale"], e["image"])], e["error"])


def write_tables(out: Path, per_image: pd.DataFrame, summary: pd.DataFrame, errors: list[dict]) -> None:
    # repr-exact floats so that two runs (or a resumed run) give byte-identical tables
    write_text_atomic(out / "per_image.csv", per_image.to_csv(index=False, float_format="%.17g"))
    write_text_atomic(out / "summary.csv", summary.to_csv(index=False, float_format="%.17g"))
    err = pd.DataFrame(errors, columns=ERROR_COLUMNS)
    write_text_atomic(out / "errors.csv", err.to_csv(index=False))
