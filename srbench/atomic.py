"""Atomic file writes, and the clean-up of what a killed writer leaves behind.

A file is written to a temp file beside it and renamed into place, so readers see either the old or the
new content, never half of it. The temp file gets the permissions a plain `open(path, "w")` would give
(0666 minus the umask: 0644 under umask 022), not mkstemp's owner-only 0600, so run folders, reports and
caches can be served or shared like any other file the user writes. A process killed with SIGKILL cannot
delete its temp file, so temp names carry the writer's process id (`.<name>.<pid>.<8 random chars>.part`,
the names `tempfile.mkstemp` / `mkdtemp` give with srbench's prefix and suffix) and `sweep_partials` removes
those whose writer is gone. Nothing else is ever removed: a user's own `.notes.part` (no process id and
random part) stays, whatever its age.

A write that fails (disk full, quota, permissions) raises `WriteError`, a UserError (one line, exit 2) that
names the file and the problem; it is also an OSError, so callers that handle OSError keep working.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

from .errors import UserError

PART_SUFFIX = ".part"
_UMASK_LOCK = threading.Lock()
# `.<name>.<pid>.<random>.part`; the random part is what tempfile uses: 8 of [a-z0-9_]
_TAGGED = re.compile(r"^\..+\.(\d+)\.[a-z0-9_]{8}\.part$")


class WriteError(UserError, OSError):
    """A file could not be written; the message names it and the reason (e.g. no space left)."""


def write_error(path: Path, exc: OSError) -> WriteError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return WriteError(f"{path}: cannot write ({reason})")


def temp_prefix(dest: Path) -> str:
    return f".{dest.name}.{os.getpid()}."


def current_umask() -> int:
    """The process umask. Linux reports it in /proc (no side effect); elsewhere it can only be read by
    setting it, which is done under a lock so that threads of this module never see a zero umask."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def mkstemp_beside(dest: Path) -> tuple[int, str]:
    """A temp file next to `dest` (the `.part` naming `sweep_partials` knows), with the umask's usual
    permissions instead of mkstemp's 0600; returns (fd, path) as `tempfile.mkstemp` does."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=temp_prefix(dest), suffix=PART_SUFFIX)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
    except BaseException:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    return fd, tmp


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = mkstemp_beside(path)
    except WriteError:
        raise
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            raise write_error(path, exc) from None
        raise


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def partial_files(root: str | os.PathLike) -> list[Path]:
    """Every temp file or folder under `root` (whatever its writer's state)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob(f"*{PART_SUFFIX}") if p.name.startswith("."))


def is_stale(path: Path, now: float | None = None) -> bool:
    """True for a temp file or folder srbench made (its name pattern) whose writer process is gone."""
    match = _TAGGED.match(path.name)
    return bool(match) and not _alive(int(match.group(1)))


def sweep_partials(root: str | os.PathLike) -> list[Path]:
    """Remove the temp files of dead writers under `root`; returns what was removed."""
    removed = []
    now = time.time()
    for path in partial_files(root):
        if not is_stale(path, now):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed
