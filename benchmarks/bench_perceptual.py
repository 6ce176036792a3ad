"""Time srbench's perceptual metrics per image and compare them with pyiqa on the same image.

    python benchmarks/bench_perceptual.py [--image PATH] [--size 480x320] [--repeat 3] [--threads 2]
                                          [--pyiqa-python /work/pyiqa-venv/bin/python]

What it measures (minimum over --repeat runs, wall clock, --threads BLAS/torch threads on both sides):
  * srbench, per metric, on an SR image (bicubic x4 of the crop) against the crop as HR: psnr_y, ssim_y,
    rmse, gsm, niqe, niqe_pirm, ma_pirm, pi (cold: NIQE + Ma + PI from scratch), and the full suite
    (PSNR, SSIM, RMSE, GSM, NIQE, Ma, PI; PI reuses the PIRM NIQE and Ma of the same image).
  * pyiqa (when its interpreter is given and works): NIQE, NRQM (= Ma) and PI on the same SR image with
    pyiqa's PIRM settings (Y of YCbCr, 4-px crop), the ratio pyiqa / srbench, and the value deltas; the
    Ma feature vectors of both on the same uint8 Y plane; NIQE on the five calibration images next to
    MATLAB's values.
Ma's trained model is not available here: unless one resolves (SRBENCH_MA_MODEL, $SRBENCH_SHARED),
both sides get the same synthetic forests of the real model's size (3 x 2000 trees, as
train_RF_regression.m), so timings are representative and Ma/PI value deltas reflect the features only.

pyiqa is not a dependency. Its package __init__ imports torchvision and dozens of optional packages, so
the pyiqa side (this file run with --pyiqa-side under pyiqa's interpreter) loads only pyiqa's NIQE and
NRQM modules, with a stub for the one torchvision-dependent helper they import.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _threads_from_argv(default: int = 2) -> str:
    argv = sys.argv[1:]
    return argv[argv.index("--threads") + 1] if "--threads" in argv[:-1] else str(default)


# BLAS reads its thread count when numpy loads, so it is fixed here, before the import.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _threads_from_argv()

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CALIBRATION = ["I03", "I04", "I06", "I08", "I19"]


def _best_time(fn, repeat: int):
    best, value = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


# ====================================================================== pyiqa side (pyiqa's interpreter)

def _import_pyiqa_modules():
    import importlib
    import types

    spec = importlib.util.find_spec("pyiqa")
    if spec is None:
        raise ImportError("pyiqa is not installed in this interpreter")
    base = Path(spec.submodule_search_locations[0])
    for name, path in (("pyiqa", base), ("pyiqa.archs", base / "archs"), ("pyiqa.utils", base / "utils")):
        module = types.ModuleType(name)
        module.__path__ = [str(path)]
        sys.modules[name] = module
    stub = types.ModuleType("pyiqa.archs.arch_util")  # the real one imports torchvision
    stub.get_url_from_name = lambda *a, **k: None
    sys.modules["pyiqa.archs.arch_util"] = stub
    niqe_arch = importlib.import_module("pyiqa.archs.niqe_arch")
    nrqm_arch = importlib.import_module("pyiqa.archs.nrqm_arch")
    return niqe_arch, nrqm_arch


def _pyiqa_side(args) -> int:
    import scipy.io
    import torch

    torch.set_num_threads(args.threads)
    niqe_arch, nrqm_arch = _import_pyiqa_modules()
    job = json.loads(Path(args.job).read_text())
    out: dict = {"times": {}, "values": {}}
    rgb = torch.from_numpy(np.load(job["sr"]).astype(np.float64)).permute(2, 0, 1)[None] / 255.0
    niqe_params = scipy.io.loadmat(job["niqe_model"])
    mu = torch.from_numpy(niqe_params["mu_prisparam"])
    cov = torch.from_numpy(niqe_params["cov_prisparam"])
    params = scipy.io.loadmat(job["ma_model"])["model"]
    linear = params["linear"][0, 0]
    rf_list = []
    for i in range(3):
        p = params["rf"][0, 0][0, i][0, 0]
        rf_list.append([p[0], p[1], p[4], p[5], p[6]])  # as pyiqa's NRQM.__init__

    def niqe():
        return float(niqe_arch.calculate_niqe(rgb, 4, True, "ycbcr", mu, cov))

    def nrqm():
        return float(nrqm_arch.calculate_nrqm(rgb, 4, True, "ycbcr", linear, rf_list))

    out["times"]["niqe_pirm"], out["values"]["niqe_pirm"] = _best_time(niqe, args.repeat)
    out["times"]["ma_pirm"], out["values"]["ma_pirm"] = _best_time(nrqm, args.repeat)
    out["times"]["pi"] = out["times"]["niqe_pirm"] + out["times"]["ma_pirm"]  # pyiqa's PI runs both
    out["values"]["pi"] = 0.5 * (10 - out["values"]["ma_pirm"] + out["values"]["niqe_pirm"])

    # Ma feature vectors on srbench's uint8 Y plane (pyiqa's own Y is unrounded float).
    y = torch.from_numpy(np.load(job["y"]).astype(np.float64))[None, None]
    pyr = nrqm_arch.get_gauss_pyramid(y / 255.0)
    f1 = torch.cat([nrqm_arch.block_dct(im) for im in pyr], dim=1)
    f2 = nrqm_arch.global_gsm(y)
    f3 = torch.cat([torch.linalg.svd(nrqm_arch.im2col(im, 5, "distinct"), full_matrices=False)[1] for im in pyr],
                   dim=1)
    out["features"] = {"f1": f1.ravel().tolist(), "f2": f2.ravel().tolist(), "f3": f3.ravel().tolist()}

    out["calibration_niqe"] = {}
    for name, path in job["calibration"].items():
        img = torch.from_numpy(np.load(path).astype(np.float64)).permute(2, 0, 1)[None] / 255.0
        out["calibration_niqe"][name] = float(niqe_arch.calculate_niqe(img, 0, True, "yiq", mu, cov))
    print(json.dumps(out))
    return 0


# ====================================================================== srbench side

def _load_crop(path: Path, size: tuple[int, int]) -> np.ndarray:
    from srbench.imageio import read_image

    img = read_image(path)
    w, h = size
    if img.shape[0] < h or img.shape[1] < w:
        raise SystemExit(f"{path}: smaller than {w}x{h}")
    img = img[:h, :w]
    return np.repeat(img, 3, axis=2) if img.shape[2] == 1 else img


def _ma_model_path(tmp: Path) -> tuple[str, bool]:
    from srbench.errors import Unavailable
    from srbench.iqa_assets import MA_MODEL, ma_model_explicit_path

    try:
        return str(MA_MODEL.resolve(ma_model_explicit_path(), allow_download=False)), False
    except Exception as exc:  # AssetError: not found
        if isinstance(exc, Unavailable):
            raise
        sys.path.insert(0, str(REPO / "tests"))
        from ma_model_fixture import write_model

        path = tmp / "synthetic_ma_model.mat"
        write_model(path, seed=0, ntree=2000, depth=20, max_nodes=577)
        return str(path), True


def _srbench_side(args, tmp: Path) -> dict:
    from srbench import matlab
    from srbench.metrics import EvalContext, EvalImage, create_metric
    from srbench.metrics import perceptual_index
    from srbench.metrics.ma import ma_features

    shared = Path(os.environ.get("SRBENCH_SHARED", REPO.parent / "shared"))
    image = Path(args.image) if args.image else shared / "datasets" / "Set14" / "HR" / "monarch.png"
    size = tuple(int(v) for v in args.size.lower().split("x"))
    hr = _load_crop(image, size)
    sr = matlab.imresize(matlab.imresize(hr, 0.25), 4.0)
    ma_path, synthetic = _ma_model_path(tmp)
    os.environ["SRBENCH_MA_MODEL"] = ma_path
    sr_img, hr_img, ctx = EvalImage(sr), EvalImage(hr), EvalContext.make(4, "pirm")

    names = ["psnr_y", "ssim_y", "rmse", "gsm", "niqe", "niqe_pirm", "ma_pirm", "pi"]
    metrics = {n: create_metric(n) for n in names}
    for m in metrics.values():
        m.prepare()

    def one(name):
        def fn():
            perceptual_index._cache.clear()  # every timing from scratch
            m = metrics[name]
            return m.compute(sr_img, hr_img if m.needs_reference else None, ctx)
        return fn

    res = {"image": f"{image} (top-left {size[0]}x{size[1]})", "synthetic_ma": synthetic, "times": {},
           "values": {}, "ma_model": ma_path}
    for n in names:
        res["times"][n], res["values"][n] = _best_time(one(n), args.repeat)
    suite = ["psnr_y", "ssim_y", "rmse", "gsm", "niqe_pirm", "ma_pirm", "pi"]

    def full_suite():
        perceptual_index._cache.clear()
        return [metrics[n].compute(sr_img, hr_img if metrics[n].needs_reference else None, ctx) for n in suite]

    res["times"]["full_suite"], _ = _best_time(full_suite, args.repeat)
    y = matlab.rgb2ycbcr(sr)[4:-4, 4:-4, 0]
    feats = ma_features(y)
    res["features"] = {"f1": feats.local_freq.tolist(), "f2": feats.global_freq.tolist(),
                       "f3": feats.spatial.tolist()}
    np.save(tmp / "sr.npy", sr)
    np.save(tmp / "y.npy", y)
    res["job"] = {"sr": str(tmp / "sr.npy"), "y": str(tmp / "y.npy"), "ma_model": ma_path,
                  "niqe_model": str(shared / "iqa-params" / "niqe_modelparameters.mat"), "calibration": {}}
    niqe = create_metric("niqe")
    niqe.prepare()
    res["calibration_niqe"] = {}
    for name in CALIBRATION:
        path = shared / "iqa-params" / "calibration" / "dist_dir" / f"{name}.bmp"
        if path.exists():
            from srbench.imageio import read_image

            rgb = read_image(path)
            np.save(tmp / f"{name}.npy", rgb)
            res["job"]["calibration"][name] = str(tmp / f"{name}.npy")
            res["calibration_niqe"][name] = niqe.compute(EvalImage(rgb), None, ctx)
    return res


def _matlab_niqe_row(shared: Path) -> dict:
    path = shared / "iqa-params" / "calibration" / "calibration_summary.csv"
    if not path.exists():
        return {}
    lines = [line.split(",") for line in path.read_text().splitlines()]
    header = [h.replace(".bmp", "") for h in lines[0][1:]]
    return {r[0]: dict(zip(header, map(float, r[1:]))) for r in lines[1:]}.get("niqe", {})


def _run_pyiqa(args, job: dict, tmp: Path) -> dict | str:
    if not args.pyiqa_python:
        return "no --pyiqa-python given"
    job_path = tmp / "job.json"
    job_path.write_text(json.dumps(job))
    env = dict(os.environ)
    proc = subprocess.run([args.pyiqa_python, __file__, "--pyiqa-side", "--job", str(job_path),
                           "--repeat", str(args.repeat), "--threads", str(args.threads)],
                          capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        return f"pyiqa side failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _report(ours: dict, theirs, shared: Path) -> None:
    print(f"image: {ours['image']}")
    print(f"Ma model: {'SYNTHETIC forests (3 x 2000 trees) - timings only, Ma/PI values are not real scores' if ours['synthetic_ma'] else ours['ma_model']}")
    print(f"\n{'metric':<12}{'srbench s':>11}{'pyiqa s':>10}{'pyiqa/srbench':>15}{'srbench':>11}{'pyiqa':>11}{'delta':>10}")
    for name, t in ours["times"].items():
        row = f"{name:<12}{t:>11.3f}"
        if isinstance(theirs, dict) and name in theirs["times"]:
            tv, ov = theirs["values"][name], ours["values"][name]
            row += f"{theirs['times'][name]:>10.3f}{theirs['times'][name] / t:>15.1f}{ov:>11.4f}{tv:>11.4f}{tv - ov:>+10.4f}"
        elif name in ours["values"]:
            row += f"{'':>10}{'':>15}{ours['values'][name]:>11.4f}"
        print(row)
    if isinstance(theirs, dict) and "pi" in theirs["times"]:
        ratio = theirs["times"]["pi"] / ours["times"]["full_suite"]
        print(f"\npyiqa PI alone / srbench full suite (PSNR, SSIM, RMSE, GSM, NIQE, Ma, PI): {ratio:.1f}x")
        print("\nMa features on the same uint8 Y plane (max |pyiqa - srbench| / max(|srbench|, 1e-3)):")
        for group in ("f1", "f2", "f3"):
            a, b = np.array(ours["features"][group]), np.array(theirs["features"][group])
            if a.shape != b.shape:
                print(f"  {group}: sizes differ ({a.size} vs {b.size})")
                continue
            rel = np.abs(b - a) / np.maximum(np.abs(a), 1e-3)
            print(f"  {group}: max {rel.max():.2e} at index {int(rel.argmax())}, median {np.median(rel):.2e}")
    elif not isinstance(theirs, dict):
        print(f"\npyiqa: {theirs}")
    matlab = _matlab_niqe_row(shared)
    if ours["calibration_niqe"]:
        print(f"\nNIQE on the calibration images (rgb2gray / pyiqa default Y of YIQ, no crop):")
        print(f"{'image':<7}{'MATLAB':>9}{'srbench':>10}{'delta':>9}{'pyiqa':>9}{'delta':>9}")
        for name, v in ours["calibration_niqe"].items():
            m = matlab.get(name, float("nan"))
            row = f"{name:<7}{m:>9.4f}{v:>10.4f}{v - m:>+9.4f}"
            if isinstance(theirs, dict) and name in theirs.get("calibration_niqe", {}):
                p = theirs["calibration_niqe"][name]
                row += f"{p:>9.4f}{p - m:>+9.4f}"
            print(row)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", default=None, help="image to crop (default: Set14 monarch, 768x512)")
    ap.add_argument("--size", default="480x320", help="crop WxH (default 480x320)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="BLAS / torch threads on both sides (default 2)")
    ap.add_argument("--pyiqa-python", default=None, help="interpreter with pyiqa installed (side venv)")
    ap.add_argument("--pyiqa-side", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--job", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.pyiqa_side:
        return _pyiqa_side(args)
    sys.path.insert(0, str(REPO))
    import torch

    torch.set_num_threads(args.threads)
    shared = Path(os.environ.get("SRBENCH_SHARED", REPO.parent / "shared"))
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        ours = _srbench_side(args, tmp)
        theirs = _run_pyiqa(args, ours["job"], tmp)
        _report(ours, theirs, shared)
    return 0


if __name__ == "__main__":
    sys.exit(main())
