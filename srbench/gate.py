"""Metric drift gate: compare a run's dataset-level values with a committed baseline.

The baseline is a long-form CSV (`method,dataset,scale,metric,value`), one line per value, so that a
deliberate update shows as a readable diff. Every (method, dataset, scale, metric) on either side is
compared: a value that moved by more than its tolerance, a row that disappeared and a row that appeared
all count as drift, because a silent gap is how a broken method would slip through.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .report.rundata import GROUP_KEYS, numeric_columns, read_table

BASELINE_COLUMNS = ["method", "dataset", "scale", "metric", "value"]
# Identical code and inputs reproduce values to the last bit on one platform; this margin only absorbs
# float printing. Cross-platform noise (other BLAS, other CPU) needs an explicit --tolerance.
DEFAULT_TOLERANCE = 1e-6

Key = tuple[str, str, int, str]


@dataclass
class Comparison:
    key: Key
    baseline: float | None
    current: float | None
    tolerance: float

    @property
    def delta(self) -> float | None:
        if self.baseline is None or self.current is None:
            return None
        if _same(self.baseline, self.current):
            return 0.0
        return self.current - self.baseline

    @property
    def status(self) -> str:
        if self.baseline is None:
            return "new"
        if self.current is None:
            return "missing"
        if _same(self.baseline, self.current):
            return "ok"
        delta = self.delta
        if math.isnan(delta) or abs(delta) > self.tolerance:
            return "DRIFT"
        return "within"

    @property
    def drifted(self) -> bool:
        return self.status in ("DRIFT", "missing", "new")


def _same(a: float, b: float) -> bool:
    """Equal, counting NaN == NaN and inf == inf (a metric that is NaN on both sides has not moved)."""
    return (math.isnan(a) and math.isnan(b)) or a == b


def run_values(run_dir) -> dict[Key, float]:
    """Dataset-level values from RUN_DIR/summary.csv."""
    path = Path(run_dir) / "summary.csv"
    if not Path(run_dir).is_dir():
        raise UserError(f"{run_dir}: not a run directory")
    table = read_table(path, GROUP_KEYS)
    metrics = numeric_columns(table, path, GROUP_KEYS)
    from .run_layout import count_columns

    metrics = [c for c in metrics if c not in count_columns(table.columns)]  # coverage counts, not metrics
    values = {}
    for row in table.to_dict("records"):
        for metric in metrics:
            values[(row["method"], row["dataset"], int(row["scale"]), metric)] = float(row[metric])
    return values


def load_baseline(path) -> dict[Key, float]:
    path = Path(path)
    table = read_table(path, BASELINE_COLUMNS)
    numeric_columns(table, path, ["method", "dataset", "scale", "metric"])
    values: dict[Key, float] = {}
    for row in table.to_dict("records"):
        key = (row["method"], row["dataset"], int(row["scale"]), row["metric"])
        if key in values:
            raise UserError(f"{path}: duplicate row for {'/'.join(map(str, key))}")
        values[key] = float(row["value"])
    return values


def write_baseline(path, values: dict[Key, float]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(BASELINE_COLUMNS)
    for key in sorted(values, key=lambda k: (k[1], k[2], k[0], k[3])):
        writer.writerow([*key, repr(values[key])])  # repr: shortest text that reads back to the same float
    from .imageio import write_text_atomic

    write_text_atomic(Path(path), buffer.getvalue())


def parse_tolerances(specs: list[str] | None) -> dict[str, float]:
    """`metric=abs` pairs (repeated, or comma-separated in one value); `default=abs` sets the tolerance of
    every metric not named."""
    tolerances = {}
    for spec in (part for value in specs or [] for part in value.split(",") if part.strip()):
        name, sep, value = spec.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not name.strip() or not math.isfinite(number) or number < 0:
            raise UserError(f"--tolerance '{spec}': expected METRIC=ABS with a non-negative number, "
                            f"e.g. psnr_y=0.01")
        tolerances[name.strip()] = number
    return tolerances


def compare(baseline: dict[Key, float], current: dict[Key, float],
            tolerances: dict[str, float] | None = None) -> list[Comparison]:
    tolerances = tolerances or {}
    default = tolerances.get("default", DEFAULT_TOLERANCE)
    keys = sorted(set(baseline) | set(current), key=lambda k: (k[1], k[2], k[0], k[3]))
    return [Comparison(key=k, baseline=baseline.get(k), current=current.get(k),
                       tolerance=tolerances.get(k[3], default)) for k in keys]


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def format_table(rows: list[Comparison], show_all: bool = False) -> str:
    """A plain-text table of the values that moved (all values with show_all)."""
    shown = [r for r in rows if show_all or r.status != "ok"]
    header = ["status", "method", "dataset", "scale", "metric", "baseline", "current", "delta", "tolerance"]
    body = [[r.status, r.key[0], r.key[1], f"x{r.key[2]}", r.key[3], _fmt(r.baseline), _fmt(r.current),
             "-" if r.delta is None else f"{r.delta:+.6g}", f"{r.tolerance:g}"] for r in shown]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *body)]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(line, widths)).rstrip() for line in [header, *body]]
    drifted = sum(r.drifted for r in rows)
    summary = (f"{len(rows)} value(s) compared: {drifted} drifted, "
               f"{sum(r.status == 'within' for r in rows)} moved within tolerance, "
               f"{sum(r.status == 'ok' for r in rows)} unchanged")
    return "\n".join((lines if shown else []) + [summary])
