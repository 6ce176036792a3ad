"""What a run could not do, said briefly: one short line per skipped method or metric while the run goes,
and one closing line naming everything skipped and how to enable it. The full reasons (paths looked in,
URLs tried) stay in run.json, where they are kept for the record rather than printed."""
from __future__ import annotations

import os
import re

SHORT = 80  # characters of a reason shown on the terminal
_URL = re.compile(r"\s*\(?https?://\S+")

# (words of a reason, what enables it); the first match wins
_HINTS = (
    ("trained weights unavailable", "train it (`srbench train`) or pass --weights"),
    ("weights unavailable", "set SRBENCH_SHARED to a folder with weights/, pass --weights, or allow downloads"),
    ("ma et al. model", "set SRBENCH_MA_MODEL to Ma's model.mat"),
    ("pyiqa", "pip install pyiqa"),
)


def short_reason(name: str, reason: str) -> str:
    """The first clause of a reason, without the method's own name, file lists or URLs."""
    text = " ".join(reason.split())
    if text.startswith(f"{name}: "):
        text = text[len(name) + 2:]
    text = _URL.sub("", text)
    if len(text) > SHORT:
        cuts = [i for i in (text.find(": "), text.find(" ("), text.find("; ")) if i > 0]
        if cuts:
            text = text[:min(cuts)]
    return text if len(text) <= SHORT else text[:SHORT - 3] + "..."


def _hint(reason: str) -> str | None:
    low = reason.lower()
    for words, hint in _HINTS:
        if words in low:
            if "allow downloads" in hint and os.environ.get("SRBENCH_OFFLINE") == "1":
                hint = hint.replace("allow downloads", "unset SRBENCH_OFFLINE and allow downloads")
            return hint
    return None


def skip_summary(methods: dict[str, str], metrics: dict[str, str], details: str) -> str | None:
    """One line: what was skipped, grouped by short reason, each group with how to enable it."""
    groups: dict[tuple[str, str], list[str]] = {}
    hints: dict[tuple[str, str], str | None] = {}
    for kind, items in (("methods", methods), ("metrics", metrics)):
        for name, reason in items.items():
            key = (kind, short_reason(name, reason))
            groups.setdefault(key, []).append(name)
            hints.setdefault(key, _hint(reason))
    if not groups:
        return None
    parts = []
    for (kind, short), names in groups.items():
        hint = hints[(kind, short)]
        parts.append(f"{kind} {', '.join(names)} ({short}{'; ' + hint if hint else ''})")
    return f"srbench: skipped {'; '.join(parts)}. Reasons: {details}"
