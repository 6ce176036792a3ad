"""srbench as users install it: a wheel, an sdist, `pip install --target` and a git URL all carry the method
zoo (adapters, committed weights, model cards) and the dataset manifests, and no top-level `methods` or
`datasets` package lands in site-packages. The wheel, installed into a fresh venv outside the checkout,
lists all methods and runs a committed-weights method offline with NIQE from the packaged model file.

The fresh venv reuses this interpreter's dependencies (torch, numpy, ...) through a .pth line, so nothing is
downloaded and torch is not installed again; srbench itself comes only from the wheel. Building the wheel
and sdist (32 MB of committed weights each) and the installed run take about a minute of CPU, so these
tests are marked slow and `.ci/run` runs this file explicitly, right after the README's test command.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from srbench.iqa_assets import NIQE_MODEL

REPO = Path(__file__).resolve().parents[1]
WEIGHTS = ["srresnet/srresnet_x4_srbench.pth", "srgan/srgan_x4_srbench.pth", "msfm_gan/msfm_gan_x4_srbench.pth",
           "bi_gans_st/mr_srgan_x4_srbench.pth", "spsagan/weights/spsagan_x4_fp16.pth",
           "stage_gan/weights/stage_gan_x4_fp16.pth"]


def _sh(*cmd, cwd=None, env=None, timeout=600) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} -> {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _repo_files() -> list[str]:
    """What a clone of this working tree holds: tracked and new files, less deleted and ignored ones."""
    out = _sh("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO).stdout
    return [f for f in out.split("\0") if f and (REPO / f).is_file()]


def _expected_zoo() -> list[str]:
    """Every file of methods/ and datasets/ a clone has (less caches): what an install must carry."""
    return sorted(f for f in _repo_files() if f.split("/")[0] in ("methods", "datasets") and "__pycache__" not in f)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A git clone of the working tree (so no stale build/ of the checkout leaks in), its sdist, and the
    wheel pip builds from the clone's git URL."""
    root = tmp_path_factory.mktemp("install")
    src = root / "src"
    for rel in _repo_files():
        dest = src / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes((REPO / rel).read_bytes())
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    _sh(*git, "init", "-q", cwd=src)
    _sh(*git, "add", "-A", cwd=src)
    _sh(*git, "commit", "-q", "-m", "snapshot", cwd=src)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    # No build isolation: the build backend (setuptools) of this environment, so no index is needed.
    _sh(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", root / "whl",
        f"git+file://{src}", env=env)
    sdist_dir = root / "sdist"
    _sh(sys.executable, "-c", f"from setuptools import build_meta as b; b.build_sdist({str(sdist_dir)!r})",
        cwd=src, env=env)
    (wheel,) = (root / "whl").glob("srbench-*.whl")
    (sdist,) = sdist_dir.glob("srbench-*.tar.gz")
    return {"root": root, "wheel": wheel, "sdist": sdist, "env": env}


@pytest.mark.slow
def test_wheel_and_sdist_carry_the_zoo_and_manifests_inside_the_package(built):
    expected = _expected_zoo()
    assert any(f.endswith(".pth") for f in expected) and any(f.endswith(".yaml") for f in expected)
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    top = {n.split("/")[0] for n in names}
    assert top == {"srbench", "srbench-0.1.0.dist-info"}, top  # no top-level methods/ or datasets/
    in_wheel = sorted(n[len("srbench/_bundled/"):] for n in names if n.startswith("srbench/_bundled/"))
    assert in_wheel == expected
    assert "srbench/iqa_params/niqe_modelparameters.mat" in names and "srbench/iqa_params/README.md" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]

    with tarfile.open(built["sdist"]) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile()}
    assert set(expected) <= members, sorted(set(expected) - members)[:5]
    assert {"setup.py", "pyproject.toml", "srbench/iqa_params/niqe_modelparameters.mat"} <= members


def _fresh_venv(root: Path) -> Path:
    """A venv outside the checkout whose dependencies are this interpreter's site-packages (a .pth line:
    its .pth files, such as the checkout's editable-install hook, are not processed from there)."""
    venv = root / "venv"
    _sh(sys.executable, "-m", "venv", "--without-pip", venv)
    py = venv / "bin" / "python"
    site = Path(_sh(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_srbench_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    return venv


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_lists_every_method_and_runs_offline(built, tmp_path):
    venv = _fresh_venv(built["root"])
    py = venv / "bin" / "python"
    _sh(sys.executable, "-m", "pip", "--python", py, "install", "-q", "--no-deps", built["wheel"], env=built["env"])
    work = tmp_path / "elsewhere"  # not the checkout: nothing may be found through the working directory
    work.mkdir()
    env = {k: v for k, v in built["env"].items() if not k.startswith(("SRBENCH_", "PYTHON"))}
    env.update(SRBENCH_CACHE=str(tmp_path / "cache"), SRBENCH_OFFLINE="1", MPLBACKEND="Agg")
    where = json.loads(_sh(py, "-c", "import json, srbench, srbench.datasets as d, srbench.methods as m, "
                           "srbench.iqa_assets as a; print(json.dumps([srbench.__file__, str(m.methods_dir()), "
                           "str(d.MANIFEST_DIR), str(a.NIQE_MODEL.resolve(allow_download=False))]))",
                           cwd=work, env=env).stdout)
    site = str(venv)
    assert all(p.startswith(site) for p in where), where
    assert where[1].endswith("srbench/_bundled/methods") and where[2].endswith("srbench/_bundled/datasets")

    srbench = venv / "bin" / "srbench"
    table = _sh(srbench, "list", "methods", cwd=work, env=env).stdout.splitlines()
    assert table[0].split()[:3] == ["method", "scales", "provenance"], table[0]  # the header line
    listed = [line.split()[0] for line in table[1:]]
    import srbench as repo_srbench

    assert listed == repo_srbench.list_methods() and len(listed) == 16, listed
    datasets = _sh(srbench, "list", "datasets", cwd=work, env=env).stdout
    assert "Set5" in datasets and "Urban100" in datasets

    # A committed-weights method on a small user dataset: the installed package gives the repository's numbers.
    from srbench.embedded import resolve_default
    from srbench.imageio import encode_png, read_image

    hr = read_image(resolve_default().images[1].path)[:128, :160]
    (work / "data" / "Tiny" / "HR").mkdir(parents=True)
    (work / "data" / "Tiny" / "HR" / "img.png").write_bytes(encode_png(hr))
    proc = _sh(srbench, "run", "--methods", "srresnet", "--datasets", "Tiny", "--data-root", work / "data",
               "--metrics", "psnr_y,niqe", "--out", work / "run", "--quiet", "--no-report", cwd=work, env=env)
    import pandas as pd

    row = pd.read_csv(work / "run" / "per_image.csv").iloc[0]
    run = json.loads((work / "run" / "run.json").read_text())
    assert run["methods"]["srresnet"]["status"] == "ok" and not run["metrics_unavailable"], proc.stderr
    from srbench.degradations import degrade

    sr = repo_srbench.create_method("srresnet", device="cpu")(degrade("bicubic", hr, 4))
    assert row["psnr_y"] == repo_srbench.create_metric("psnr_y")(sr, hr)
    assert row["niqe"] == repo_srbench.create_metric("niqe")(sr)
    assert np.isfinite(row["niqe"])


@pytest.mark.slow
def test_target_install_carries_the_zoo(built, tmp_path):
    target = tmp_path / "target"
    _sh(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", target, built["wheel"], env=built["env"])
    assert sorted(p.name for p in target.iterdir() if not p.name.endswith(".dist-info")) == ["bin", "srbench"]
    for rel in WEIGHTS:
        assert (target / "srbench" / "_bundled" / "methods" / rel).is_file(), rel
    env = {k: v for k, v in built["env"].items() if not k.startswith("SRBENCH_")}
    env.update(PYTHONPATH=str(target), SRBENCH_CACHE=str(tmp_path / "cache"))
    out = _sh(sys.executable, "-c", "import srbench.methods as m; m.discover_methods(); "
              "print(m.methods_dir()); print(len(m.METHODS.names()))", cwd=tmp_path, env=env).stdout.split()
    assert out == [str(target / "srbench" / "_bundled" / "methods"), "16"]


def test_methods_dir_override_still_wins(monkeypatch, tmp_path):
    from srbench.methods import methods_dir

    monkeypatch.setenv("SRBENCH_METHODS_DIR", str(tmp_path))
    assert methods_dir() == tmp_path
    monkeypatch.delenv("SRBENCH_METHODS_DIR")
    assert methods_dir() == REPO / "methods"  # the checkout (editable install): the top-level folder


def test_niqe_model_ships_with_the_package_and_is_verified(monkeypatch, tmp_path):
    monkeypatch.delenv("SRBENCH_SHARED", raising=False)
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    path = NIQE_MODEL.resolve()
    assert path == REPO / "srbench" / "iqa_params" / "niqe_modelparameters.mat"
    sums = (path.parent / "SHA256SUMS").read_text().split()
    assert sums == [NIQE_MODEL.sha256, path.name]
    from srbench.errors import ChecksumError

    bad = tmp_path / "niqe_modelparameters.mat"
    bad.write_bytes(path.read_bytes()[:-1] + b"\0")
    monkeypatch.setattr(NIQE_MODEL, "packaged", bad)
    with pytest.raises(ChecksumError):  # a damaged install is an error, never a silent fallback
        NIQE_MODEL.resolve()
