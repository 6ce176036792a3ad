"""Mutation check: does the fast test suite notice small, realistic bugs in the core code?

Each mutation is a text substitution in one source file. For each, a temporary copy of the repository
gets the mutated file, and the fast tests that cover that module run against it WITHOUT ../shared
(SRBENCH_SHARED, SRBENCH_DATA and CI unset, a fresh cache), because a bug must be caught on any machine,
not only where the shared data happens to be. A mutation whose tests all pass "survived": the suite
cannot tell the bug from the real thing. Exit status 0 only when every mutation was killed.

Every target text must occur exactly once in its file; when the code changes under it the script
says "mutation target not found" (and fails) instead of silently testing nothing. Update the list then.

    python tests/mutation/run.py [--list] [--only SUBSTRING] [--keep]    (--list also checks the targets)

Not collected by pytest (no test_ prefix, and tests/conftest.py ignores this folder).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

MATLAB_TESTS = ["tests/test_matlab.py", "tests/test_matlab_reference_values.py"]
IMRESIZE_TESTS = MATLAB_TESTS + ["tests/test_degradations.py"]
FIDELITY_TESTS = ["tests/test_fidelity.py", "tests/test_matlab_reference_values.py", "tests/test_protocol_values.py"]
PROTOCOL_TESTS = ["tests/test_protocol_values.py", "tests/test_fidelity.py"]
NIQE_TESTS = ["tests/test_niqe.py", "tests/test_niqe_window.py"]
SUMMARY_TESTS = ["tests/test_summary_values.py", "tests/test_runner.py"]
GATE_TESTS = ["tests/test_gate_boundary.py", "tests/test_gate.py"]


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str       # file, relative to the repository root
    target: str     # text that must occur exactly once in it
    replacement: str
    tests: tuple[str, ...]  # pytest arguments (files, node ids, -k expressions)
    needs_niqe_model: bool = False  # its tests skip when the NIQE model cannot be resolved without ../shared


M = Mutation
MUTATIONS = [
    # --- srbench/matlab.py
    M("rounding half to even", "srbench/matlab.py",
      "return np.sign(x) * np.floor(np.abs(x) + 0.5)", "return np.round(x)", tuple(MATLAB_TESTS)),
    M("imresize without antialiasing", "srbench/matlab.py",
      "if scale < 1 and antialiasing:", "if False:", tuple(IMRESIZE_TESTS)),
    M("imresize uint8 rounded only at the end", "srbench/matlab.py",
      "            out = to_uint8(out).astype(np.float64)\n", "            pass\n", tuple(IMRESIZE_TESTS)),
    M("Y coefficient of R, 3rd decimal", "srbench/matlab.py", "[[65.481,", "[[65.482,", tuple(MATLAB_TESTS)),
    M("Y coefficient of G, 3rd decimal", "srbench/matlab.py", "128.553", "128.552", tuple(MATLAB_TESTS)),
    M("Cb coefficient of G, 3rd decimal", "srbench/matlab.py", "-74.203", "-74.204", tuple(MATLAB_TESTS)),
    M("Cr coefficient of G, 3rd decimal", "srbench/matlab.py", "-93.786", "-93.785", tuple(MATLAB_TESTS)),
    M("Cr coefficient of B, 3rd decimal", "srbench/matlab.py", "-18.214", "-18.215", tuple(MATLAB_TESTS)),
    M("rgb2gray weight 0.114021 -> 0.115021", "srbench/matlab.py",
      "0.114020904255103", "0.115020904255103", tuple(MATLAB_TESTS)),
    M("modcrop from the top-left", "srbench/matlab.py",
      "return img[: h - h % scale, : w - w % scale, ...]", "return img[h % scale:, w % scale:, ...]",
      ("tests/test_degradations.py", "tests/test_protocol_values.py")),
    # --- srbench/metrics/fidelity.py
    M("SSIM 'same' instead of 'valid'", "srbench/metrics/fidelity.py",
      "return out[half:img.shape[0] - half, half:img.shape[1] - half]", "return out", tuple(FIDELITY_TESTS)),
    M("SSIM K1/K2 swapped", "srbench/metrics/fidelity.py",
      "K1: float = 0.01, K2: float = 0.03", "K1: float = 0.03, K2: float = 0.01", tuple(FIDELITY_TESTS)),
    M("SSIM Gaussian sigma 1.5 -> 1.6", "srbench/metrics/fidelity.py",
      "window_size: int = 11, sigma: float = 1.5)", "window_size: int = 11, sigma: float = 1.6)",
      tuple(FIDELITY_TESTS)),
    M("PSNR peak 255 -> 256", "srbench/metrics/fidelity.py",
      "peak: float = 255.0", "peak: float = 256.0", tuple(FIDELITY_TESTS)),
    M("RMSE shave 4 -> 3", "srbench/metrics/fidelity.py", "PIRM_SHAVE = 4", "PIRM_SHAVE = 3", tuple(FIDELITY_TESTS)),
    M("RMSE dataset value: mean of RMSEs (metric)", "srbench/metrics/fidelity.py",
      "return float(np.sqrt(np.mean(values * values))) if values.size", "return float(np.mean(values)) if values.size",
      tuple(SUMMARY_TESTS + ["tests/test_fidelity.py"])),
    # --- srbench/protocols.py
    M("matlab protocol crop = scale + 1", "srbench/protocols.py",
      "quantized_y=True, crop=lambda s: s))", "quantized_y=True, crop=lambda s: s + 1))", tuple(PROTOCOL_TESTS)),
    M("basicsr protocol rounds Y", "srbench/protocols.py",
      "quantized_y=False, crop=lambda s: s))", "quantized_y=True, crop=lambda s: s))", tuple(PROTOCOL_TESTS)),
    M("selfexsr crop 6 + scale -> 5 + scale", "srbench/protocols.py",
      "crop=lambda s: 6 + s", "crop=lambda s: 5 + s", tuple(PROTOCOL_TESTS)),
    M("srgan crop 4 -> scale", "srbench/protocols.py",
      "border crop at every scale.\",\n              quantized_y=True, crop=lambda s: 4))",
      "border crop at every scale.\",\n              quantized_y=True, crop=lambda s: s))", tuple(PROTOCOL_TESTS)),
    M("pirm shave 4 -> scale", "srbench/protocols.py",
      "(RMSE, NIQE, Ma, PI).\",\n              quantized_y=True, crop=lambda s: 4))",
      "(RMSE, NIQE, Ma, PI).\",\n              quantized_y=True, crop=lambda s: s))", tuple(PROTOCOL_TESTS)),
    # --- srbench/metrics/niqe.py
    M("NIQE block 96 -> 64", "srbench/metrics/niqe.py", "BLOCK = 96", "BLOCK = 64", tuple(NIQE_TESTS)),
    M("NIQE Gaussian sigma 7/6 -> 1.2", "srbench/metrics/niqe.py",
      "sigma: float = 7.0 / 6.0", "sigma: float = 1.2", tuple(NIQE_TESTS)),
    M("NIQE window 7 -> 9", "srbench/metrics/niqe.py",
      "def gaussian_window_1d(size: int = 7,", "def gaussian_window_1d(size: int = 9,", tuple(NIQE_TESTS)),
    # PIRM's NIQE plane: these tests compute NIQE, so they run only where the model resolves without ../shared
    # (it does once the package ships it); elsewhere they are reported as NOT RUN, not as killed.
    M("NIQE-PIRM shave 4 -> 3", "srbench/metrics/niqe.py",
      "PIRM_SHAVE = 4", "PIRM_SHAVE = 3", ("tests/test_pi.py",), needs_niqe_model=True),
    M("NIQE-PIRM on rgb2gray instead of Y", "srbench/metrics/niqe.py",
      "else matlab.rgb2ycbcr(img.pixels)[:, :, 0]", "else matlab.rgb2gray(img.pixels)", ("tests/test_pi.py",),
      needs_niqe_model=True),
    # --- the runner's summary table (srbench/tabulate.py) and cache keys (srbench/plan.py)
    # the dataset value of run and score alike is metrics.base.finite_aggregate (the summary table calls it)
    M("summary: plain mean of per-image values (mean of RMSEs)", "srbench/metrics/base.py",
      "return (metric.aggregate(arr) if arr.size else float(\"nan\")), int(arr.size)",
      "return (float(np.mean(arr)) if arr.size else float(\"nan\")), int(arr.size)", tuple(SUMMARY_TESTS)),
    M("metric version left out of the cache key", "srbench/plan.py",
      "return f\"{metric.identity()}|{ctx.protocol.name}|crop{ctx.crop_border}\"",
      "return f\"{metric.name}|{ctx.protocol.name}|crop{ctx.crop_border}\"", ("tests/test_results_cache.py",)),
    M("model metric identity without the model digest", "srbench/metrics/niqe.py",
      'return f"{super().identity()}+model:{model_digest(self._model)}"',
      'return f"{super().identity()}"', ("tests/test_metric_models.py",)),
    M("a worker's metric keys are not compared with the client's", "srbench/evaluate.py",
      "        if here != expected:\n", "        if False:\n", ("tests/test_metric_models.py",)),
    M("metrics pickle with their models", "srbench/metrics/base.py",
      "                state[name] = None\n", "                pass\n", ("tests/test_metric_models.py",)),
    # --- worker start-up (srbench/execute/): a run of bicubic with srbench's metrics starts torch-free workers
    M("bicubic counted as a network method", "srbench/methods/bicubic.py",
      "    has_network = False\n", "    has_network = True\n", ("tests/test_worker_startup.py",)),
    M("the fork server imports torch whatever the plan", "srbench/execute/pool.py",
      '*(["torch"] if torch else [])', '"torch"', ("tests/test_worker_startup.py",)),
    # --- srbench/gate.py (h13b is rewriting it: targets may move)
    M("gate: delta equal to the tolerance is drift (>=)", "srbench/gate.py",
      "abs(delta) > self.tolerance", "abs(delta) >= self.tolerance", tuple(GATE_TESTS)),
    M("gate: delta sign reversed", "srbench/gate.py",
      "return self.current - self.baseline", "return self.baseline - self.current", tuple(GATE_TESTS)),
    M("gate: one-sided (a drop is never drift)", "srbench/gate.py",
      "math.isnan(delta) or abs(delta) > self.tolerance", "math.isnan(delta) or delta > self.tolerance",
      tuple(GATE_TESTS)),
    # --- srbench/report/stats.py (h16 owns the report)
    M("one-sided Wilcoxon", "srbench/report/stats.py",
      "alternative=\"two-sided\"", "alternative=\"greater\"", ("tests/test_report.py", "-k", "wilcoxon")),
]


SKIP_DIRS = {".git", ".venv", "runs", "__pycache__", ".pytest_cache"}


def _tracked_files() -> list[str]:
    """The checkout's files (git's view when there is one: tracked plus untracked-not-ignored)."""
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                             check=True, capture_output=True).stdout.decode()
        files = [p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (e.g. an unpacked archive)
        files = [str(p.relative_to(REPO)) for p in REPO.rglob("*")
                 if p.is_file() and not SKIP_DIRS & set(p.relative_to(REPO).parts)]
    return [p for p in files if not p.startswith("tests/mutation/")]


def _copy_repo(dest: Path) -> None:
    for rel in _tracked_files():
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _env(copy: Path, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SRBENCH_SHARED", "SRBENCH_DATA", "CI", "SRBENCH_MA_MODEL", "PYTEST_ADDOPTS")}
    env.update(PYTHONPATH=str(copy), SRBENCH_CACHE=str(cache), SRBENCH_OFFLINE="1", MPLBACKEND="Agg",
               OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "1"), PYTHONDONTWRITEBYTECODE="1")
    return env


def _pytest(copy: Path, args: tuple[str, ...], work: Path) -> tuple[int, str]:
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))  # fresh: a cached value must not hide a bug
    proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *args],
                          cwd=copy, env=_env(copy, cache), capture_output=True, text=True)
    shutil.rmtree(cache, ignore_errors=True)
    lines = [l for l in (proc.stdout + proc.stderr).splitlines() if l.strip()]
    return proc.returncode, (lines[-1] if lines else "")


def _niqe_model_resolves(copy: Path, work: Path) -> bool:
    code = "from srbench.metrics.niqe import niqe_model; niqe_model()"
    return subprocess.run([sys.executable, "-c", code], cwd=copy, env=_env(copy, work),
                          capture_output=True).returncode == 0


def _check_import(copy: Path, work: Path) -> None:
    """The tests must import the copy's srbench (mutated), not the installed one."""
    proc = subprocess.run([sys.executable, "-c", "import srbench; print(srbench.__file__)"], cwd=copy,
                          env=_env(copy, work), capture_output=True, text=True, check=True)
    where = Path(proc.stdout.strip()).resolve()
    if copy.resolve() not in where.parents:
        sys.exit(f"mutation: the tests would import {where}, not the copy in {copy}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--only", default=None, help="run only mutations whose name contains this text")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args = parser.parse_args(argv)
    mutations = [m for m in MUTATIONS if args.only is None or args.only.lower() in m.name.lower()]
    start = time.monotonic()
    missing = []
    for m in mutations:
        count = (REPO / m.path).read_text(encoding="utf-8").count(m.target) if (REPO / m.path).is_file() else 0
        if count != 1:
            missing.append(f"{m.path}: {m.name}: mutation target not found exactly once ({count} times): "
                           f"{m.target!r}")
    if args.list:  # also a quick check of the targets after a merge
        for m in mutations:
            print(f"{m.path}: {m.name}  [{' '.join(m.tests)}]")
        print("\n".join(missing) or f"all {len(mutations)} targets found exactly once")
        return 1 if missing else 0
    for line in missing:
        print(line, flush=True)
    work = Path(tempfile.mkdtemp(prefix="srbench-mutation-"))
    copy = work / "repo"
    results = []
    not_run: list[Mutation] = []
    try:
        _copy_repo(copy)
        _check_import(copy, work)
        if not _niqe_model_resolves(copy, work):
            not_run = [m for m in mutations if m.needs_niqe_model]
            mutations = [m for m in mutations if not m.needs_niqe_model]
            for m in not_run:
                print(f"NOT RUN   {m.path}: {m.name}  -- the NIQE model does not resolve without ../shared")
        # The unmutated code must pass every selection, or a "kill" means nothing. Plain file lists are
        # run together (one interpreter start); selections with options (-k ...) on their own.
        selections = {m.tests for m in mutations}
        files = sorted({t for sel in selections if not any(a.startswith("-") for a in sel) for t in sel})
        batches = ([tuple(files)] if files else []) + sorted(s for s in selections if any(a.startswith("-") for a in s))
        for sel in batches:
            rc, last = _pytest(copy, sel, work)
            if rc != 0:
                print(f"mutation: the tests fail on the UNMUTATED code ({' '.join(sel)}): rc {rc}: {last}")
                return 2
        print(f"unmutated code: {len(files)} test files pass ({time.monotonic() - start:.0f}s)", flush=True)
        for m in mutations:
            if any(line.startswith(f"{m.path}: {m.name}:") for line in missing):
                continue
            path = copy / m.path
            original = path.read_text(encoding="utf-8")
            path.write_text(original.replace(m.target, m.replacement), encoding="utf-8")
            t0 = time.monotonic()
            try:
                rc, last = _pytest(copy, m.tests, work)
            finally:
                path.write_text(original, encoding="utf-8")
            status = "killed" if rc == 1 else "SURVIVED" if rc == 0 else f"ERROR (pytest rc {rc})"
            results.append((m, status))
            print(f"{status:9s} {time.monotonic() - t0:5.1f}s  {m.path}: {m.name}  -- {last}", flush=True)
    finally:
        if args.keep:
            print(f"copy kept in {copy}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    survived = [m for m, s in results if s == "SURVIVED"]
    errors = [m for m, s in results if s not in ("killed", "SURVIVED")]
    print(f"mutation: {len(results)} applied, {sum(s == 'killed' for _, s in results)} killed, "
          f"{len(survived)} survived, {len(errors)} errors, {len(missing)} targets not found, "
          f"{len(not_run)} not run (no NIQE model); "
          f"{time.monotonic() - start:.0f}s (without ../shared)")
    for m in survived:
        print(f"  survived: {m.path}: {m.name}")
    return 0 if not survived and not errors and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
