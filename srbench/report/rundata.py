"""Loading a run directory written by `srbench run` into tables the reporter and the gate share."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UserError
from ..run_layout import count_columns, sr_image_path

GROUP_KEYS = ["method", "dataset", "scale"]
IMAGE_KEYS = GROUP_KEYS + ["image"]
# Text columns: read as strings so that a method called "nan" or "1e3" stays the name it is.
_TEXT_DTYPES = {"method": str, "dataset": str, "image": str, "metric": str}


def read_table(path: Path, required: list[str]) -> pd.DataFrame:
    """A results CSV with its key columns checked; bad input names the file."""
    try:
        df = pd.read_csv(path, dtype=_TEXT_DTYPES, keep_default_na=False, na_values=["", "nan", "NaN"])
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)}")
    if "scale" in df.columns:
        scale = pd.to_numeric(df["scale"], errors="coerce")
        if scale.isna().any():
            raise UserError(f"{path}: column 'scale' must hold integers")
        df["scale"] = scale.astype(int)
    return df


def numeric_columns(df: pd.DataFrame, path: Path, exclude: list[str]) -> list[str]:
    """Metric columns: everything that is not a key, coerced to float (a non-number is bad input)."""
    cols = [c for c in df.columns if c not in exclude]
    for c in cols:
        values = pd.to_numeric(df[c], errors="coerce")
        bad = values.isna() & df[c].notna()
        if bad.any():
            raise UserError(f"{path}: column '{c}' holds a non-number ({df[c][bad].iloc[0]!r})")
        df[c] = values.astype(np.float64)
    return cols


@dataclass
class RunData:
    root: Path
    per_image: pd.DataFrame
    summary: pd.DataFrame
    info: dict
    errors: pd.DataFrame
    metrics: list[str] = field(default_factory=list)

    def metric_info(self, metric: str) -> dict:
        return (self.info.get("metrics") or {}).get(metric) or {}

    def higher_is_better(self, metric: str) -> bool | None:
        """Direction from run.json, else from the metric registry; None when nobody knows."""
        value = self.metric_info(metric).get("higher_is_better")
        if isinstance(value, bool):
            return value
        from ..metrics import load_builtin_metrics

        registry = load_builtin_metrics()
        return registry.factory(metric).higher_is_better if metric in registry else None

    def description(self, metric: str) -> str:
        return str(self.metric_info(metric).get("description") or "")

    def groups(self) -> list[tuple[str, int]]:
        """(dataset, scale) pairs in the order the run lists them."""
        pairs = self.summary[["dataset", "scale"]].drop_duplicates()
        return [(str(d), int(s)) for d, s in pairs.itertuples(index=False)]

    def methods(self) -> list[str]:
        return list(dict.fromkeys(self.summary["method"].tolist()))

    def skipped_methods(self) -> dict[str, str]:
        methods = self.info.get("methods") or {}
        return {name: str(m.get("reason", "")) for name, m in methods.items()
                if isinstance(m, dict) and m.get("status") == "skipped"}

    def sr_path(self, method: str, dataset: str, scale: int, image: str) -> Path:
        return sr_image_path(self.root, method, dataset, scale, image)

    def dataset_root(self, dataset: str) -> Path | None:
        entry = (self.info.get("datasets") or {}).get(dataset) or {}
        root = entry.get("root")
        return Path(root) if root else None


def load_run(run_dir) -> RunData:
    """Read per_image.csv, summary.csv, run.json and (optional) errors.csv of a run directory."""
    root = Path(run_dir)
    if not root.is_dir():
        raise UserError(f"{root}: not a run directory")
    run_json = root / "run.json"
    try:
        info = json.loads(run_json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{run_json}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{run_json}: not valid JSON ({exc})") from None
    if not isinstance(info, dict):
        raise UserError(f"{run_json}: expected a JSON object")

    summary_path, per_image_path = root / "summary.csv", root / "per_image.csv"
    summary = read_table(summary_path, GROUP_KEYS)
    metrics = numeric_columns(summary, summary_path, GROUP_KEYS)
    metrics = [c for c in metrics if c not in count_columns(summary.columns)]  # images/failed/<m>_n: coverage
    per_image = read_table(per_image_path, IMAGE_KEYS)
    numeric_columns(per_image, per_image_path, IMAGE_KEYS)
    # Metric order is summary.csv's column order (the run's order); run.json's keys are sorted.

    errors_path = root / "errors.csv"
    errors = (read_table(errors_path, IMAGE_KEYS + ["error"]) if errors_path.exists()
              else pd.DataFrame(columns=IMAGE_KEYS + ["error"]))
    return RunData(root=root, per_image=per_image, summary=summary, info=info, errors=errors, metrics=metrics)
