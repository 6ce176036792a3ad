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


@pytest.fixture
def niqe_model_file() -> Path:
    """The NIQE pristine model, resolved as srbench resolves it (no download): tests that compute NIQE say so
    with this fixture, so that a missing model skips them visibly here and fails them in CI."""
    from srbench.errors import AssetError
    from srbench.iqa_assets import NIQE_MODEL

    try:
        return Path(NIQE_MODEL.resolve(None, allow_download=False))
    except AssetError as exc:
        _missing_shared(f"the NIQE model file ({exc})")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "shared" in getattr(item, "fixturenames", ()) or "shared_datasets" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared)


# The mutation check (tests/mutation/run.py) runs the tests itself; it is not a test module.
collect_ignore = ["mutation"]

# A test that cannot check something here and must not fail for it (e.g. the Ma/PI parity test: the trained
# Ma model cannot be obtained on these machines) skips with a reason starting with NOT_CHECKED; those are
# repeated at the very end of the run, so that their absence is visible in CI output, not one "s" among many.
NOT_CHECKED = "NOT CHECKED: "


def pytest_terminal_summary(terminalreporter):
    lines = []
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        if reason.startswith(NOT_CHECKED):
            lines.append(f"{reason}  ({report.nodeid})")
    for line in dict.fromkeys(lines):
        terminalreporter.write_line(line, yellow=True, bold=True)
