"""Test configuration: the repository on sys.path, and the `shared` fixture for tests that need ../shared.

Without SRBENCH_SHARED those tests skip on a user's machine; in CI (CI=true) they fail instead, so a CI
that lost its data cannot pass by skipping.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
# `srbench run` defaults to one worker process per core; tests run serially in-process unless they ask for
# --jobs (tests/test_executors.py, tests/test_kill_resume.py), so that their monkeypatches apply to the work.
os.environ.setdefault("SRBENCH_JOBS", "1")


def _shared_root() -> Path | None:
    value = os.environ.get("SRBENCH_SHARED")
    if value and Path(value).is_dir():
        return Path(value).resolve()
    return None


def _missing_shared(what: str):
    message = f"needs {what} (set SRBENCH_SHARED to the shared data folder)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message + " -- CI must not skip this test")
    pytest.skip(message)


@pytest.fixture
def shared() -> Path:
    root = _shared_root()
    if root is None:
        _missing_shared("SRBENCH_SHARED")
    return root


@pytest.fixture
def shared_datasets(shared) -> Path:
    root = Path(os.environ.get("SRBENCH_DATA") or shared / "datasets")
    if not root.is_dir():
        _missing_shared(f"the datasets folder {root}")
    return root


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "shared" in getattr(item, "fixturenames", ()) or "shared_datasets" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared)
