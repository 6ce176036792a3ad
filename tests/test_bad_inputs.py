"""Bad input through the real command line: every kind gets a one-line message naming the file or the name
at fault and the documented exit code, never a traceback (the cases are in tests/bad_inputs_doc.py).

The committed docs/bad-inputs.md must be exactly what the cases print today; regenerate it with
`python -m tests.bad_inputs_doc`. The test never writes it.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import bad_inputs_doc


def test_bad_inputs_table_and_doc_is_up_to_date(tmp_path):
    rows, failures = bad_inputs_doc.run_all(tmp_path)
    assert not failures, "\n".join(failures)
    assert len(rows) >= 20
    kinds = {case.kind for case, _ in rows}
    assert any("NIQE" in kind for kind in kinds)  # never dropped silently (the model ships with srbench)
    expected = bad_inputs_doc.render(rows)
    actual = bad_inputs_doc.DOC.read_text(encoding="utf-8") if bad_inputs_doc.DOC.is_file() else ""
    assert actual == expected, ("docs/bad-inputs.md is out of date: run `python -m tests.bad_inputs_doc` "
                                "from the repository root and commit the result")


def test_doc_generator_writes_only_when_asked(tmp_path, monkeypatch):
    """Running the test above leaves the tracked file untouched; the generator writes it (atomically)."""
    target = tmp_path / "bad-inputs.md"
    monkeypatch.setattr(bad_inputs_doc, "DOC", target)
    monkeypatch.setattr(bad_inputs_doc, "run_all", lambda tmp: ([(bad_inputs_doc.CASES[0], "msg")], []))
    assert bad_inputs_doc.main_write() == 0
    assert target.read_text().startswith("# Bad inputs") and "| msg |" in target.read_text()
    monkeypatch.setattr(bad_inputs_doc, "run_all", lambda tmp: ([], ["a case failed"]))
    target.write_text("kept")
    assert bad_inputs_doc.main_write() == 1 and target.read_text() == "kept"


@pytest.mark.parametrize("argv, names", [
    (["run", "--methods", "bicubc", "--datasets", "default", "--scale", "4"], ["'bicubc'", "did you mean"]),
    (["run", "--methods", "bicubic", "--datasets", "default", "--scale", "2.5"], ["'2.5'"]),
])
def test_real_process_one_line_exit_2(tmp_path, argv, names):
    """The same contract in a fresh `python -m srbench.cli` process (the installed entry point's code)."""
    env = dict(os.environ, SRBENCH_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-m", "srbench.cli", *argv, "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("srbench: error: "), proc.stderr
    assert all(name in lines[0] for name in names), lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
