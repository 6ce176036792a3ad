"""Metric drift gate: compare a run's dataset-level values with a baseline.

The baseline is one of: a long-form CSV written by `srbench gate --update` (one line per value, so that a
deliberate update shows as a readable diff), a previous run folder, or a run's `summary.csv`. Every
(method, dataset, scale, metric) on either side is compared. A value that moved beyond its metric's
tolerance is drift; a row that disappeared (missing) or appeared (new) is reported and counted apart from
drift, and fails the gate too, because a silent gap is how a broken method would slip through.

Values are only comparable when they were measured the same way: the baseline records, per value, the
protocol, degradation, border crop, metric version and srbench version it was made with, and a
difference there is reported as what it is (a UserError, exit 2), not as drift.

Tolerances are absolute, per metric. The defaults come from measuring the spread of the CI command's
values across thread counts, oneDNN on/off and older instruction sets (docs/gate.md), with
margin, while staying below the smallest change the gate must catch (0.01 dB PSNR, 1e-4 SSIM).
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError
from .report.rundata import GROUP_KEYS, read_table

BASELINE_COLUMNS = ["method", "dataset", "scale", "metric", "value"]
# How each value was measured; '' in a field means "not recorded" (e.g. a bare summary.csv) and is not checked.
CONTEXT_COLUMNS = ["protocol", "degradation", "crop_border", "metric_version", "srbench"]
_CONTEXT_NAMES = {"protocol": "protocol", "degradation": "degradation", "crop_border": "border crop",
                  "metric_version": "metric version", "srbench": "srbench version"}

# Measured spread (docs/gate.md: worst |delta| over 1/2/4 threads, oneDNN off, older ISAs) x margin;
# psnr_y and ssim_y stay 5x below the changes the gate must catch (0.01 dB, 1e-4).
DEFAULT_TOLERANCES = {
    "psnr_y": 0.002,     # dB; worst measured 8.8e-6
    "ssim_y": 2e-5,      # worst measured 3.9e-7
    "rmse": 0.002,       # grey levels (0-255); worst measured 6.3e-6
    "gsm": 2e-5,         # worst measured 2.7e-7
    "niqe": 0.05,        # worst measured 0.0046 (Bi-GANs-ST: a few hundred SR values one level apart)
    "niqe_pirm": 0.05,
    "ma": 0.05,          # not measured (Ma's model file was not available): NIQE's default
    "ma_pirm": 0.05,
    "pi": 0.05,          # (10 - Ma + NIQE) / 2
}
FALLBACK_TOLERANCE = 1e-6  # a metric without a measured default (e.g. pyiqa:*): any real change is drift

Key = tuple[str, str, int, str]


@dataclass
class Values:
    """One side of the comparison: where it was read from, its values, and how each was measured."""
    source: str
    values: dict[Key, float]
    context: dict[Key, dict[str, str]] = field(default_factory=dict)


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
        if math.isnan(delta) or abs(delta) > self.tolerance:  # a delta equal to the tolerance passes
            return "DRIFT"
        return "within"

    @property
    def drifted(self) -> bool:
        """The gate fails on this row (drift, or a row missing or new)."""
        return self.status in ("DRIFT", "missing", "new")


def _same(a: float, b: float) -> bool:
    """Equal, counting NaN == NaN and inf == inf (a metric that is NaN on both sides has not moved)."""
    return (math.isnan(a) and math.isnan(b)) or a == b


def _text(value) -> str:
    """A context field as text: '' for not recorded; 4.0 read back by pandas as '4'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _float(value, path: Path, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UserError(f"{path}: {what} holds a non-number ({value!r})") from None


# ------------------------------------------------------------------ reading

def _run_context(info: dict, scale: int, metric: str) -> dict[str, str]:
    from .protocols import PROTOCOLS

    config = info.get("config") if isinstance(info.get("config"), dict) else {}
    protocol_info = info.get("protocol") if isinstance(info.get("protocol"), dict) else {}
    protocol = _text(protocol_info.get("name") or config.get("protocol"))
    crop = ""
    if protocol in PROTOCOLS:
        crop = _text(PROTOCOLS.create(protocol).crop_border(scale, config.get("crop_border")))
    metric_info = (info.get("metrics") or {}).get(metric) if isinstance(info.get("metrics"), dict) else None
    versions = info.get("versions") if isinstance(info.get("versions"), dict) else {}
    return {"protocol": protocol, "degradation": _text(config.get("degradation")), "crop_border": crop,
            "metric_version": _text((metric_info or {}).get("version")), "srbench": _text(versions.get("srbench"))}


def _metric_columns(columns, info: dict | None) -> list[str]:
    """The summary columns that hold metric values. run.json lists the run's metrics; without it, the
    registered metric names and pyiqa:* (so count columns such as `images` or `failed` are never gated)."""
    if info is not None and isinstance(info.get("metrics"), dict):
        return [c for c in columns if c in info["metrics"]]
    from .metrics import load_builtin_metrics

    registry = load_builtin_metrics()
    return [c for c in columns if c in registry or str(c).startswith("pyiqa:")]


def _summary_values(table, path: Path, info: dict | None) -> Values:
    out = Values(source=str(path), values={})
    metrics = _metric_columns([c for c in table.columns if c not in GROUP_KEYS], info)
    for row in table.to_dict("records"):
        for metric in metrics:
            key = (row["method"], row["dataset"], int(row["scale"]), metric)
            out.values[key] = _float(row[metric], path, f"column '{metric}'")
            if info is not None:
                out.context[key] = _run_context(info, key[2], metric)
    return out


def run_folder_values(run_dir) -> Values:
    """Dataset-level values of a run folder (its summary.csv, measured as its run.json says)."""
    from .run_folder import read_info

    root = Path(run_dir)
    if not root.is_dir():
        raise UserError(f"{root}: not a run folder")
    if not (root / "summary.csv").exists() and not (root / "run.json").exists():
        raise UserError(f"{root}: not a run folder (no summary.csv or run.json; write one with `srbench run --out`)")
    info = read_info(root)  # checks that the tables and run.json come from one run
    return _summary_values(read_table(root / "summary.csv", GROUP_KEYS), root / "summary.csv", info)


def run_values(run_dir) -> dict[Key, float]:
    return run_folder_values(run_dir).values


def _baseline_file_values(table, path: Path) -> Values:
    out = Values(source=str(path), values={})
    for row in table.to_dict("records"):
        key = (row["method"], row["dataset"], int(row["scale"]), row["metric"])
        if key in out.values:
            raise UserError(f"{path}: duplicate row for {'/'.join(map(str, key))}")
        out.values[key] = _float(row["value"], path, "column 'value'")
        out.context[key] = {c: _text(row.get(c)) for c in CONTEXT_COLUMNS}
    return out


def _csv_kind(path: Path) -> str:
    """'baseline' (long form), 'summary' (a run's summary.csv) or 'unknown', from the header line."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), [])
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a readable CSV (not UTF-8 text)") from None
    except OSError as exc:  # a directory, no permission
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if "metric" in header and "value" in header:
        return "baseline"
    if all(c in header for c in GROUP_KEYS):
        return "summary"
    return "unknown"


def load_baseline_values(path) -> Values:
    """A baseline given as a baseline file, a run folder, or a run's summary.csv."""
    path = Path(path)
    if path.is_dir():
        return run_folder_values(path)
    if not path.exists():
        raise UserError(f"{path}: file not found")
    kind = _csv_kind(path)
    if kind == "summary":
        if (path.parent / "run.json").is_file() and path.name == "summary.csv":
            return run_folder_values(path.parent)  # with its run.json: checked and measured as recorded
        return _summary_values(read_table(path, GROUP_KEYS), path, None)
    return _baseline_file_values(read_table(path, BASELINE_COLUMNS), path)


def load_baseline(path) -> dict[Key, float]:
    return load_baseline_values(path).values


def write_baseline(path, current: Values) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(BASELINE_COLUMNS + CONTEXT_COLUMNS)
    for key in sorted(current.values, key=lambda k: (k[1], k[2], k[0], k[3])):
        context = current.context.get(key, {})
        # repr: shortest text that reads back to the same float
        writer.writerow([*key, repr(current.values[key]), *(context.get(c, "") for c in CONTEXT_COLUMNS)])
    from .imageio import write_text_atomic

    write_text_atomic(Path(path), buffer.getvalue())


def check_writable_baseline(path) -> None:
    """--update writes a baseline file: refuse to overwrite a run folder or a run's summary.csv."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a folder; --update writes a baseline file (e.g. benchmarks/baseline.csv)")
    if path.exists() and _csv_kind(path) == "summary":
        raise UserError(f"{path}: is a run's summary.csv; --update writes a baseline file, "
                        f"give another path (e.g. benchmarks/baseline.csv)")


# ------------------------------------------------------------------ comparing

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


def check_tolerance_names(tolerances: dict[str, float], *sides: Values) -> None:
    """A tolerance for a metric nobody knows is a typo (`psnr` for `psnr_y`): refuse it."""
    from .metrics import load_builtin_metrics
    from .registry import did_you_mean

    known = set(load_builtin_metrics().names()) | {k[3] for side in sides for k in side.values} | {"default"}
    for name in tolerances:
        if name not in known:
            raise UserError(f"--tolerance {name}=...: unknown metric '{name}'{did_you_mean(name, known)}; "
                            f"known: {', '.join(sorted(known))}")


def tolerance_for(metric: str, tolerances: dict[str, float]) -> float:
    if metric in tolerances:
        return tolerances[metric]
    if "default" in tolerances:
        return tolerances["default"]
    return DEFAULT_TOLERANCES.get(metric, FALLBACK_TOLERANCE)


def context_mismatch(baseline: Values, current: Values) -> str | None:
    """One line saying how the two sides were measured differently, or None when they agree (fields
    that either side did not record are not compared)."""
    for column in CONTEXT_COLUMNS:
        for key in sorted(set(baseline.values) & set(current.values), key=lambda k: (k[1], k[2], k[0], k[3])):
            old = baseline.context.get(key, {}).get(column, "")
            new = current.context.get(key, {}).get(column, "")
            if old and new and old != new:
                what = f"metric {key[3]} version" if column == "metric_version" else _CONTEXT_NAMES[column]
                where = f" ({key[1]} x{key[2]})" if column == "crop_border" else ""
                return (f"{what}{where} differs: {old} in baseline {baseline.source}, {new} in run "
                        f"{current.source}; the values are not comparable (rerun with the baseline's "
                        f"settings, or write a new baseline with --update)")
    return None


def compare(baseline: dict[Key, float], current: dict[Key, float],
            tolerances: dict[str, float] | None = None) -> list[Comparison]:
    tolerances = tolerances or {}
    keys = sorted(set(baseline) | set(current), key=lambda k: (k[1], k[2], k[0], k[3]))
    return [Comparison(key=k, baseline=baseline.get(k), current=current.get(k),
                       tolerance=tolerance_for(k[3], tolerances)) for k in keys]


def counts(rows: list[Comparison]) -> dict[str, int]:
    statuses = [r.status for r in rows]
    return {s: statuses.count(s) for s in ("DRIFT", "missing", "new", "within", "ok")}


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
    n = counts(rows)
    summary = (f"{len(rows)} value(s) compared: {n['DRIFT']} drifted, {n['missing']} missing, {n['new']} new, "
               f"{n['within']} moved within tolerance, {n['ok']} unchanged")
    return "\n".join((lines if shown else []) + [summary])


def describe_defaults() -> str:
    return ", ".join(f"{m}={t:g}" for m, t in DEFAULT_TOLERANCES.items())


__all__ = ["BASELINE_COLUMNS", "CONTEXT_COLUMNS", "Comparison", "DEFAULT_TOLERANCES", "Values", "compare",
           "context_mismatch", "load_baseline", "load_baseline_values", "parse_tolerances",
           "run_folder_values", "run_values", "write_baseline"]
