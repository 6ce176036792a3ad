"""Run-folder integrity: the files in a run folder come from one `srbench run`, never from two.

`run.json` is written last and is the run's manifest: besides the configuration it records a run id and
the sha256 of each table (per_image.csv, summary.csv, errors.csv). A reader checks the tables against it,
so a folder in which a kill left run B's tables beside run A's run.json is refused with one line instead
of being reported as if it were one run. The tables themselves stay plain CSV (no header comment), so
pandas and spreadsheets read them as before. A run.json without a manifest (written by srbench before
0.1.0 recorded one) is read as it is.

A reused `--out` is cleaned of the previous run's outputs that this run does not replace: SR images of
(method, dataset, scale, image) items that are not in this run's tables, and the previous HTML report
under `<out>/report/` (the run writes a fresh one unless --no-report). Only paths in srbench's own layout
are removed, so a user's other files in the folder are left alone.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Iterable

from .errors import UserError
from .run_layout import sr_image_path

TABLES = ("per_image.csv", "summary.csv", "errors.csv")
MANIFEST = "run.json"
REPORT_DIR = "report"
_SCALE_DIR = re.compile(r"x\d+$")


def new_run_id() -> str:
    """Sortable by time, unique by its random part: 20261201T093000Z-1f2e3d4c."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(out) -> dict:
    """The run id and table digests that run.json records; call after the tables are written."""
    out = Path(out)
    return {"run_id": new_run_id(),
            "files": {name: _sha256(out / name) for name in TABLES if (out / name).is_file()}}


def verify(run_dir, info: dict) -> None:
    """Raise a one-line UserError when the tables of `run_dir` are not the ones its run.json records."""
    root = Path(run_dir)
    files = info.get("files")
    if files is None:
        return  # no manifest: a run folder from before run ids (nothing to check it against)
    run_json = root / MANIFEST
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise UserError(f"{run_json}: 'files' must map each table name to its sha256")
    unknown = [name for name in files if name not in TABLES]
    if unknown:  # never hash paths named by the file (e.g. '../..'): only the run's own tables
        raise UserError(f"{run_json}: 'files' names {unknown[0]!r}, not a table of a run folder")
    foreign = []
    for name in TABLES:
        path = root / name
        recorded = files.get(name)
        present = path.is_file()
        if recorded is None and not present:
            continue
        try:
            if recorded is None or not present or _sha256(path) != recorded:
                foreign.append(name)
        except OSError as exc:
            raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if foreign:
        run_id = info.get("run_id", "?")
        raise UserError(f"{root}: {', '.join(foreign)} not from the run that wrote run.json (run {run_id}): "
                        f"the folder mixes two runs (a run killed while writing?); run `srbench run` again "
                        f"with this --out")


def read_info(run_dir) -> dict:
    """run.json of a run folder, checked against the folder's tables (for readers that need only the
    summary, such as the gate; the reporter's `load_run` reads everything)."""
    root = Path(run_dir)
    run_json = root / MANIFEST
    try:
        info = json.loads(run_json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{run_json}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{run_json}: not valid JSON ({exc})") from None
    except OSError as exc:
        raise UserError(f"{run_json}: cannot read ({exc.strerror or exc})") from None
    if not isinstance(info, dict):
        raise UserError(f"{run_json}: expected a JSON object")
    verify(root, info)
    return info


def remove_stale_outputs(out, items: Iterable[tuple]) -> list[Path]:
    """Before a run writes its tables into `out`: remove SR images that are not those of `items`
    ((method, dataset, scale, image) tuples of this run's per-image rows) and the previous report.
    Returns what was removed."""
    out = Path(out)
    keep = {os.path.normpath(sr_image_path(out, m, d, int(s), str(i))) for m, d, s, i in items}
    removed = []
    sr_root = out / "sr"
    if sr_root.is_dir() and not sr_root.is_symlink():
        # Layout: sr/<method>/<dataset>/x<scale>/<image>.png; anything else there is not ours to delete.
        for path in sr_root.glob("*/*/x*/*.png"):
            if (_SCALE_DIR.match(path.parent.name) and path.is_file() and not path.is_symlink()
                    and os.path.normpath(path) not in keep):
                path.unlink()
                removed.append(path)
        for folder in sorted((p for p in sr_root.glob("**/") if p != sr_root), key=lambda p: -len(p.parts)):
            try:
                folder.rmdir()  # only empty ones
            except OSError:
                pass
    report = out / REPORT_DIR
    # Ours when it holds the report's index page; a user's own report/ folder is not touched.
    if report.is_dir() and not report.is_symlink() and (report / "index.html").is_file():
        shutil.rmtree(report)
        removed.append(report)
    return removed
