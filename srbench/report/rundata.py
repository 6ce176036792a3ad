"""Loading a run directory written by `srbench run` into tables the reporter and the gate share."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UserError
from ..run_folder import read_info as read_run_info
from ..run_layout import count_columns, sr_image_path

GROUP_KEYS = ["method", "dataset", "scale"]
IMAGE_KEYS = GROUP_KEYS + ["image"]
# Columns of the tables that are not metrics: counts of evaluated/failed images and the id tying a run's
# files together (written by newer runners; older tables lack them).
NON_METRIC_COLUMNS = ["images", "failed", "run_id"]
PROVENANCES = ["published weights", "srbench-trained surrogate", "user checkpoint", "baseline"]
UNKNOWN_PROVENANCE = "unknown"
# Text columns: read as strings so that a method called "nan" or "1e3" stays the name it is.
_TEXT_DTYPES = {"method": str, "dataset": str, "image": str, "metric": str}


def read_table(path: Path, required: list[str]) -> pd.DataFrame:
    """A results CSV with its key columns checked; bad input names the file."""
    try:
        df = pd.read_csv(path, dtype=_TEXT_DTYPES, keep_default_na=False, na_values=["", "nan", "NaN"])
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except OSError as exc:  # a directory, no permission
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)}")
    if "scale" in df.columns:
        scale = pd.to_numeric(df["scale"], errors="coerce")
        if scale.isna().any() or (scale != scale.round()).any():  # 4.5 is refused, not truncated to 4
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

    def expected_images(self, dataset: str, scale: int) -> list[str]:
        """The dataset's images: run.json's list when it has one, else every image any method (or error
        line) of this dataset x scale names, so a method missing an image is still seen as incomplete."""
        listed = ((self.info.get("datasets") or {}).get(dataset) or {}).get("images")
        if isinstance(listed, (dict, list)) and len(listed):
            return sorted(str(i) for i in listed)
        rows = self.per_image[(self.per_image["dataset"] == dataset) & (self.per_image["scale"] == scale)]
        errs = self.errors[(self.errors["dataset"] == dataset) & (self.errors["scale"] == scale)]
        return sorted(set(rows["image"]) | (set(errs["image"]) - {"*"}))

    def provenance(self, method: str) -> str:
        """Where a method's weights come from: run.json, else the method class's declaration, else unknown."""
        entry = (self.info.get("methods") or {}).get(method)
        if isinstance(entry, dict) and entry.get("provenance"):
            return str(entry["provenance"])
        if method.startswith("torch:") or (isinstance(entry, dict) and entry.get("spec")):
            return "user checkpoint"
        try:
            from ..methods import discover_methods

            registry = discover_methods()
            if method in registry:
                value = getattr(registry.factory(method), "provenance", None)
                if isinstance(value, str) and value:
                    return value
        except Exception:  # a broken adapter module must not stop a report of finished numbers
            pass
        return UNKNOWN_PROVENANCE

    def methods_without_results(self) -> dict[str, str]:
        """Methods that produced no value at all, with the reason: run.json's (skipped or failed to
        construct), else the first error errors.csv records for them."""
        have = set(self.per_image["method"])
        out: dict[str, str] = {}
        for name, entry in (self.info.get("methods") or {}).items():
            if name in have:
                continue
            reason = str(entry.get("reason", "")) if isinstance(entry, dict) else ""
            status = entry.get("status") if isinstance(entry, dict) else None
            if not reason:
                errs = self.errors[self.errors["method"] == name]["error"]
                reason = str(errs.iloc[0]) if len(errs) else "no results"
            out[str(name)] = f"{status}: {reason}" if status in ("skipped", "failed") else f"failed: {reason}"
        for name in dict.fromkeys(self.errors["method"]):
            if name not in have and name not in out:
                out[str(name)] = "failed: " + str(self.errors[self.errors["method"] == name]["error"].iloc[0])
        return out

    def absent_at(self, scale: int, present: list[str]) -> dict[str, str]:
        """Methods of the run not in `present` that were skipped or failed at this scale, with the reason."""
        out = {}
        for name, entry in (self.info.get("methods") or {}).items():
            if name in present or not isinstance(entry, dict):
                continue
            at = (entry.get("scales") or {}).get(str(scale)) or {}
            if isinstance(at, dict) and at.get("status") in ("skipped", "failed"):
                out[str(name)] = f"{at['status']}: {at.get('reason', '')}"
        return out

    def skipped_methods(self) -> dict[str, str]:
        methods = self.info.get("methods") or {}
        return {name: str(m.get("reason", "")) for name, m in methods.items()
                if isinstance(m, dict) and m.get("status") == "skipped"}

    def sr_path(self, method: str, dataset: str, scale: int, image: str) -> Path:
        return sr_image_path(self.root, method, dataset, scale, image)

    def dataset_root(self, dataset: str) -> Path | None:
        entry = (self.info.get("datasets") or {}).get(dataset) or {}
        root = entry.get("root")
        if not root:
            return None
        path = Path(root)
        return path if path.is_absolute() else self.root / path  # a copied run.json holds relative roots


def load_run(run_dir) -> RunData:
    """Read per_image.csv, summary.csv, run.json and (optional) errors.csv of a run directory."""
    root = Path(run_dir)
    if not root.is_dir():
        raise UserError(f"{root}: not a run directory")
    info = read_run_info(root)  # checked: tables and run.json from one run, not two

    summary_path, per_image_path = root / "summary.csv", root / "per_image.csv"
    summary = read_table(summary_path, GROUP_KEYS)
    metrics = numeric_columns(summary, summary_path, GROUP_KEYS + NON_METRIC_COLUMNS)
    metrics = [c for c in metrics if c not in count_columns(summary.columns)]  # images/failed/<m>_n: coverage
    per_image = read_table(per_image_path, IMAGE_KEYS)
    numeric_columns(per_image, per_image_path, IMAGE_KEYS + NON_METRIC_COLUMNS)
    # Metric order is summary.csv's column order (the run's order); run.json's keys are sorted.

    errors_path = root / "errors.csv"
    errors = (read_table(errors_path, IMAGE_KEYS + ["error"]) if errors_path.exists()
              else pd.DataFrame(columns=IMAGE_KEYS + ["error"]))
    return RunData(root=root, per_image=per_image, summary=summary, info=info, errors=errors, metrics=metrics)
