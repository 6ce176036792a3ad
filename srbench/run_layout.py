"""Where a run folder keeps its files; the runner writes and the reporter reads through these."""
from __future__ import annotations

import hashlib
from pathlib import Path

_SAFE_CHARS = "-_."


def safe_component(name: str) -> str:
    """A method name made safe and unique as one path component (method names are untrusted text).

    A name of letters, digits and `-_.` that does not start with a dot is used as it is. Any other name
    (`torch:x/a.pth`, `..`, an empty name, non-ASCII letters) has its other characters replaced by `_`
    and gets `-` plus the first 10 hex digits of the sha256 of the full name appended, so two names that
    sanitise alike (`torch:x/a.pth`, `torch:x_a.pth`) never share a folder and no name can be `.` or `..`
    (names over 100 characters are cut to 100, with the digest of the whole name).
    """
    plain = "".join(c if (c.isascii() and c.isalnum()) or c in _SAFE_CHARS else "_" for c in name)
    if plain == name and name and not name.startswith(".") and len(name) <= 100:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{plain.lstrip('.')[:100] or '_'}-{digest}"


def sr_image_path(run_dir: Path, method: str, dataset: str, scale: int, image: str) -> Path:
    return Path(run_dir) / "sr" / safe_component(method) / dataset / f"x{scale}" / f"{image}.png"


# summary.csv's coverage columns (see srbench/tabulate.py): not metrics, whatever reads the table
COUNT_COLUMNS = ["images", "failed"]
COUNT_SUFFIX = "_n"  # `<metric>_n`: how many per-image values the metric's dataset value is over


def count_columns(columns) -> list[str]:
    """The coverage (non-metric) columns of a summary table: `images`, `failed`, and `<metric>_n` for each
    metric column `<metric>` present."""
    columns = [str(c) for c in columns]
    names = set(columns)
    return [c for c in columns
            if c in COUNT_COLUMNS or (c.endswith(COUNT_SUFFIX) and c[: -len(COUNT_SUFFIX)] in names)]
