"""What a user sees: files that follow the umask, devices refused before work, and quiet skip messages."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from srbench.atomic import atomic_write, current_umask
from srbench.cli import main
from srbench.imageio import encode_png


@pytest.fixture
def offline(tmp_path, monkeypatch):
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("SRBENCH_SHARED", raising=False)
    rng = np.random.default_rng(0)
    hr = np.clip(rng.normal(128, 40, (48, 64, 3)), 0, 255).astype(np.uint8)
    (tmp_path / "data" / "Tiny" / "HR").mkdir(parents=True)
    (tmp_path / "data" / "Tiny" / "HR" / "a.png").write_bytes(encode_png(hr))
    return tmp_path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_atomic_write_gives_the_umask_permissions(tmp_path, umask):
    old = os.umask(umask)
    try:
        assert current_umask() == umask
        atomic_write(tmp_path / "f.txt", b"x")
        atomic_write(tmp_path / "f.txt", b"y")  # replacing keeps the rule
    finally:
        os.umask(old)
    assert _mode(tmp_path / "f.txt") == 0o666 & ~umask
    assert (tmp_path / "f.txt").read_bytes() == b"y"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]  # no temp file left


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_every_file_of_a_run_follows_the_umask(offline, umask):
    """A whole run (tables, run.json, SR images, report, cache entries) under umask 022 and 027."""
    old = os.umask(umask)
    try:
        rc = main(["run", "--methods", "bicubic", "--datasets", "Tiny", "--data-root", str(offline / "data"),
                   "--metrics", "psnr_y", "--out", str(offline / "run"), "--quiet"])
    finally:
        os.umask(old)
    assert rc == 0
    files = [p for root in (offline / "run", offline / "cache") for p in root.rglob("*") if p.is_file()]
    assert {"per_image.csv", "summary.csv", "run.json", "a.png", "index.html"} <= {p.name for p in files}
    wrong = {str(p): oct(_mode(p)) for p in files if _mode(p) != 0o666 & ~umask}
    assert not wrong


def _run_args(offline: Path, *extra: str) -> list[str]:
    return ["run", "--methods", "bicubic", "--datasets", "Tiny", "--data-root", str(offline / "data"),
            "--metrics", "psnr_y", "--out", str(offline / "run"), "--quiet", "--no-report", *extra]


@pytest.mark.parametrize("device, message", [
    ("bogus", "--device bogus: not a torch device"),
    ("meta", "--device meta: the meta device computes no pixels"),
    ("cuda", "--device cuda: "),
    ("cuda:7", "--device cuda:7: "),
])
def test_unusable_device_is_refused_before_any_work(offline, capsys, device, message):
    import torch

    if device.startswith("cuda") and torch.cuda.is_available() and torch.cuda.device_count() > 7:
        pytest.skip("this machine has that CUDA device")
    assert main(_run_args(offline, "--device", device)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"srbench: error: {message}"), err
    assert not (offline / "run").exists()  # nothing was written: refused before the run started


def test_auto_device_picks_cuda_only_when_torch_sees_one(monkeypatch):
    import torch

    from srbench.devices import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu" and resolve_device(None) == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"


def test_cli_and_api_default_to_auto(offline, capsys):
    from srbench.commands import run as run_cmd
    from srbench.runner import RunConfig

    assert RunConfig(methods=["x"], datasets=["y"], scales=[4], out="o").device == "auto"
    import argparse

    parser = argparse.ArgumentParser()
    run_cmd.add_arguments(parser)
    assert parser.parse_args([]).device == "auto"
    assert main(_run_args(offline)) == 0
    capsys.readouterr()
    run = json.loads((offline / "run" / "run.json").read_text())
    import torch

    assert run["config"]["device"] == ("cuda" if torch.cuda.is_available() else "cpu")  # resolved, recorded


def test_a_skipped_method_is_one_short_line_and_the_run_ends_with_how_to_enable_it(offline, capsys):
    args = _run_args(offline)
    args[2] = "srcnn,bicubic,espcn"
    assert main(args + ["--scale", "3,4"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert "http" not in "\n".join(err) and "looked in" not in "\n".join(err)
    assert [line for line in err if "srcnn" in line and "skipping" in line] == ["srbench: skipping srcnn x3: weights unavailable"]
    assert len([line for line in err if "skipping" in line]) == 2  # once per method, not per scale
    assert all(len(line) <= 120 for line in err[:-1]), err
    last = err[-1]
    assert last.startswith("srbench: skipped methods srcnn, espcn (weights unavailable; set SRBENCH_SHARED"), last
    assert "--weights" in last and "SRBENCH_OFFLINE" in last and str(offline / "run" / "run.json") in last
    run = json.loads((offline / "run" / "run.json").read_text())
    assert "looked in" in run["methods"]["srcnn"]["reason"]  # the full reason is kept for the record
    assert run["methods"]["srcnn"]["status"] == "skipped"
