"""Reporting on a run directory: HTML report with plots and crops, leaderboard.md, shared run loader.

The entry points import their modules on first use, so that `srbench gate` (which only needs the run
loader) does not pay for matplotlib.
"""
from __future__ import annotations

from pathlib import Path

from .rundata import RunData, load_run


def generate_report(run_dir, out_dir=None) -> Path:
    """Write the HTML report of `run_dir` (default folder: RUN_DIR/report); returns its index.html."""
    from .render import generate_report as generate

    return generate(run_dir, out_dir)


def write_markdown_leaderboard(run_dir, path, command_line: str) -> Path:
    """Write the Markdown leaderboard of `run_dir` to `path`; `command_line` regenerates it."""
    from .markdown import write_markdown_leaderboard as write

    return write(run_dir, path, command_line)


__all__ = ["RunData", "generate_report", "load_run", "write_markdown_leaderboard"]
