"""The bicubic baseline against the published MATLAB tables.

Two pipelines are checked. `srbench run` (the default protocol) makes the LR image from the uint8 RGB HR
image and stores it as uint8, as a benchmark that saves LR files does. The SRCNN/VDSR/LapSRN test scripts
whose tables everybody copies instead resize the double Y channel and never quantise the LR image; run
through our `imresize`, that pipeline reproduces their Set5 numbers to all four printed digits, which
checks `imresize` itself far more tightly than the tolerance of the first pipeline.
"""
import numpy as np
import pytest

from srbench import matlab as M
from srbench.imageio import read_image
from srbench.metrics.fidelity import psnr, ssim_index
from srbench.runner import RunConfig, run

# (dataset, scale) -> (PSNR, SSIM) of bicubic in the VDSR (CVPR 2016) and LapSRN (CVPR 2017) tables
PUBLISHED = {("Set5", 2): (33.66, 0.9299), ("Set5", 3): (30.39, 0.8682), ("Set5", 4): (28.42, 0.8104),
             ("Set14", 2): (30.24, 0.8688), ("Set14", 4): (26.00, 0.7027), ("BSD100", 4): (25.96, 0.6675)}


@pytest.fixture
def bicubic_run(shared_datasets, tmp_path, monkeypatch):
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    config = RunConfig(methods=["bicubic"], datasets=["Set5", "Set14"], scales=[4], out=str(tmp_path / "run"),
                       metrics=["psnr_y", "ssim_y"], data_root=str(shared_datasets), progress=False,
                       report=False, save_sr=False)
    return run(config).summary.set_index("dataset")


@pytest.mark.parametrize("dataset", ["Set5", "Set14"])
def test_srbench_run_matches_published_bicubic_x4(bicubic_run, dataset):
    psnr_ref, ssim_ref = PUBLISHED[(dataset, 4)]
    row = bicubic_run.loc[dataset]
    assert abs(row["psnr_y"] - psnr_ref) <= 0.01, row["psnr_y"]
    assert abs(row["ssim_y"] - ssim_ref) <= 0.0005, row["ssim_y"]


def _y_double_pipeline(hr_dir, scale):
    psnrs, ssims = [], []
    for path in sorted(hr_dir.glob("*.png")):
        hr = M.modcrop(read_image(path), scale)
        y = M.rgb2y(hr) if hr.shape[2] == 3 else hr[:, :, 0].astype(np.float64)
        sr = M.to_uint8(M.imresize(M.imresize(y / 255, 1 / scale), scale) * 255).astype(np.float64)
        psnrs.append(psnr(M.shave(y, scale), M.shave(sr, scale)))
        ssims.append(ssim_index(M.shave(y, scale), M.shave(sr, scale)))
    return float(np.mean(psnrs)), float(np.mean(ssims))


@pytest.mark.parametrize("dataset,scale", [("Set5", 2), ("Set5", 3), ("Set5", 4), ("Set14", 2)])
def test_y_channel_pipeline_reproduces_published_tables(shared_datasets, dataset, scale):
    value_psnr, value_ssim = _y_double_pipeline(shared_datasets / dataset / "HR", scale)
    psnr_ref, ssim_ref = PUBLISHED[(dataset, scale)]
    assert abs(value_psnr - psnr_ref) <= 0.01, value_psnr
    # Set5 matches to the printed digit; Set14's SSIM is 1.5e-4 off: its grayscale `bridge` is handled
    # differently by the scripts behind the tables (some replicate it to RGB), so the 5e-4 applies.
    tolerance = 0.0001 if dataset == "Set5" else 0.0005
    assert abs(value_ssim - ssim_ref) <= tolerance, value_ssim
