"""Where a run folder keeps its files; the runner writes and the reporter reads through these."""
from __future__ import annotations

from pathlib import Path


def safe_component(name: str) -> str:
    """A method name made safe as one path component (method names are untrusted text)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def sr_image_path(run_dir: Path, method: str, dataset: str, scale: int, image: str) -> Path:
    return Path(run_dir) / "sr" / safe_component(method) / dataset / f"x{scale}" / f"{image}.png"
