"""Text that goes into generated files: absolute paths of the machine that made a run are cut to their
last component, so a committed report says nothing about (and does not depend on) where it was made."""
from __future__ import annotations

import re

# An absolute POSIX path (/a/b, ~/a) or a Windows one (C:\\a); not a URL's //host part, not a relative path.
_ABSOLUTE = re.compile(r"(?<![\w./~\\])(?:~?/(?!/)|[A-Za-z]:[\\/])[^\s\"',;()<>\[\]{}]*")


def _last(match: re.Match) -> str:
    path = match.group(0).rstrip("/\\:.")
    tail = match.group(0)[len(path):]
    parts = [p for p in re.split(r"[\\/]", path) if p and not re.fullmatch(r"[A-Za-z]:|~", p)]
    return (f"…/{parts[-1]}" if parts else "…") + tail


def scrub_paths(text) -> str:
    """`text` with every absolute path replaced by '…/<last component>'."""
    return _ABSOLUTE.sub(_last, str(text))
