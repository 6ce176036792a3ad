"""docs/github-actions-gate.yml works as written: its first-time commands and its job's steps, run in order
against a local git URL of this checkout, give a passing gate, and a changed checkpoint fails it.

Only what needs the internet is replaced, each replacement checked to match exactly once (so an edited
template cannot silently escape the test): the pip upgrade and the torch download are dropped (the venv
sees this interpreter's packages through a .pth file), and `git+https://github.com/YOUR-ORG/srbench@v0.1.0`
becomes `git+file://<copy of this working tree>@v0.1.0`, installed with --no-deps --no-build-isolation
--no-index (as a bare URL: the pip of this venv rejects `name @ git+file:///...`, GitHub's upgraded pip
takes both). `uses:` steps (checkout, setup-python, cache, upload) are GitHub's; the upload step's paths
are checked to exist.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "docs" / "github-actions-gate.yml"
SRBENCH_URL = "git+https://github.com/YOUR-ORG/srbench@v0.1.0"

pytestmark = pytest.mark.slow  # two venv-installed srbench runs with the HTML report: a few minutes here


def _template():
    workflow = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    first_time = [line[1:].strip() for line in TEMPLATE.read_text(encoding="utf-8").splitlines()
                  if re.match(r"#\s+srbench ", line)]
    steps = workflow["jobs"]["gate"]["steps"]
    return workflow["env"], first_time, {s["name"]: s for s in steps if "name" in s}, steps


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
                            GIT_COMMITTER_EMAIL="t@t"))


def _local_srbench_repo(dest: Path) -> Path:
    """This working tree (tracked and untracked, not ignored files) as a git repo tagged v0.1.0."""
    listing = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                             capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listing):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    _git("init", "-q", cwd=dest)
    _git("add", "-A", cwd=dest)
    _git("commit", "-qm", "srbench", cwd=dest)
    _git("tag", "v0.1.0", cwd=dest)
    return dest


def _venv_with_our_packages(dest: Path) -> Path:
    venv.create(dest, with_pip=False)  # `python -m pip` finds this interpreter's pip through the .pth
    site = Path(subprocess.run([str(dest / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # torch, numpy, setuptools, pip ... of this interpreter; not its srbench (an editable install's .pth inside
    # those folders is not processed, and the project folder is not on the path)
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz-test-deps.pth").write_text("\n".join(sorted(ours)) + "\n")
    return dest / "bin"


def _replace_once(script: str, old: str, new: str) -> str:
    assert script.count(old) == 1, f"the template no longer contains {old!r} once"
    return script.replace(old, new)


def _install_script(step: dict, src: Path) -> str:
    lines = step["run"].splitlines()
    kept = [l for l in lines if "--upgrade pip" not in l and "--index-url" not in l]
    assert len(lines) - len(kept) == 2, "expected one pip upgrade and one torch install line"
    return _replace_once("\n".join(kept), f'"srbench @ {SRBENCH_URL}"',
                         f'--no-deps --no-build-isolation --no-index "git+file://{src}@v0.1.0"')


def test_ci_template_runs_verbatim_against_a_local_checkout(tmp_path):
    import torch


    env_vars, first_time, steps, all_steps = _template()
    assert [s.get("uses", s.get("name")).split("@")[0] for s in all_steps][:2] == ["actions/checkout",
                                                                                    "actions/setup-python"]
    # the baseline is made with exactly the job's benchmark command (the first run of this template failed
    # because they differed)
    benchmark = steps["Benchmark the checkpoint"]["run"].strip()
    assert first_time[0] == benchmark
    assert "srbench list archs" in TEMPLATE.read_text()

    src = _local_srbench_repo(tmp_path / "srbench-src")
    bin_dir = _venv_with_our_packages(tmp_path / "venv")
    project = tmp_path / "project"
    (project / "benchmarks").mkdir(parents=True)
    checkpoint = project / env_vars["CHECKPOINT"]
    checkpoint.parent.mkdir(parents=True)
    # An untrained RRDBNet paints a flat image whose NIQE is not finite (a per-metric failure, exit 1); the
    # stand-in checkpoint is an MSRResNet, whose bilinear skip gives a textured image like a trained model's.
    from srbench.archs.msrresnet import MSRResNet

    env_vars["ARCH"] = "MSRResNet"
    torch.manual_seed(0)
    net = MSRResNet(scale=4, num_feat=8, num_block=1)
    torch.save(net.state_dict(), checkpoint)

    env = {k: v for k, v in os.environ.items() if not k.startswith("SRBENCH_") and k != "PYTHONPATH"}
    env.update({k: str(v) for k, v in env_vars.items()})
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", SRBENCH_CACHE=str(tmp_path / "cache"),
               SRBENCH_OFFLINE="1", MPLBACKEND="Agg", OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "1"))
    if os.environ.get("SRBENCH_SHARED"):
        env["SRBENCH_SHARED"] = os.environ["SRBENCH_SHARED"]

    def bash(script: str, expect: int = 0) -> str:
        result = subprocess.run(["bash", "-e", "-c", script], cwd=project, env=env, capture_output=True, text=True)
        assert result.returncode == expect, f"{script}\n-> {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    bash(_install_script(steps["Install srbench (CPU torch)"], src))
    installed = bash("python -c 'import srbench, sys; print(srbench.__file__)'")
    assert installed.startswith(str(tmp_path / "venv")), installed  # the git-URL install, not this checkout
    assert "RRDBNet" in bash("srbench list archs")

    for command in first_time:
        if command.startswith("srbench "):
            bash(command)
    assert (project / env_vars["BASELINE"]).is_file()

    bash(benchmark)
    out = bash(steps["Gate on metric drift"]["run"])
    assert "0 drifted, 0 missing, 0 new" in out and "gate: passed" in out
    for path in steps["Upload the report"]["with"]["path"].split():
        assert (project / path).exists(), path

    # a changed model: the same steps fail the job on its metrics
    with torch.no_grad():
        net.conv_last.bias += 0.02
    torch.save(net.state_dict(), checkpoint)
    bash(benchmark)
    out = bash(steps["Gate on metric drift"]["run"], expect=1)
    assert re.search(r"DRIFT\s+model\s", out) and "gate: FAILED" in out
    assert not re.search(r"DRIFT\s+bicubic", out)
