"""The bicubic baseline against the published MATLAB tables.

Two pipelines are checked. `srbench run` (the default protocol) makes the LR image from the uint8 RGB HR
image and stores it as uint8, as a benchmark that saves LR files does. The SRCNN/VDSR/LapSRN test scripts
whose tables everybody copies instead resize the double Y channel and never quantise the LR image; that
pipeline is `srbench run --protocol srcnn`, and it reproduces their Set5 numbers to all four printed digits,
which checks `imresize` itself far more tightly than the tolerance of the first pipeline.
"""
import functools

import numpy as np
import pytest

from srbench import matlab as M
from srbench.imageio import read_image
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


@functools.lru_cache(maxsize=1)
def _srcnn_protocol_summary(root: str, out: str):
    """`srbench run --methods bicubic --protocol srcnn` (the pipeline of the SRCNN/VDSR/LapSRN scripts), once."""
    config = RunConfig(methods=["bicubic"], datasets=["Set5", "Set14"], scales=[2, 3, 4], out=out,
                       metrics=["psnr_y", "ssim_y"], protocol="srcnn", data_root=root, progress=False,
                       report=False, save_sr=False, use_cache=False)
    return run(config).summary.set_index(["dataset", "scale"])


@pytest.fixture
def srcnn_protocol_run(shared_datasets, tmp_path_factory):
    return _srcnn_protocol_summary(str(shared_datasets), str(tmp_path_factory.getbasetemp() / "srcnn-run"))


@pytest.mark.parametrize("dataset,scale", [("Set5", 2), ("Set5", 3), ("Set5", 4), ("Set14", 2)])
def test_srcnn_protocol_reproduces_published_tables(srcnn_protocol_run, dataset, scale):
    row = srcnn_protocol_run.loc[(dataset, scale)]
    psnr_ref, ssim_ref = PUBLISHED[(dataset, scale)]
    # Set5 matches to every printed digit (rounded as `srbench run` prints them): half a unit of the last digit.
    # Set14 is 8e-3 dB / 1.5e-4 off: its grayscale `bridge` is handled differently by the scripts behind the
    # tables (some replicate it to RGB), so the 0.01 dB / 5e-4 apply there.
    psnr_tol, ssim_tol = (0.005, 0.00005) if dataset == "Set5" else (0.01, 0.0005)
    assert abs(row["psnr_y"] - psnr_ref) <= psnr_tol, row["psnr_y"]
    assert abs(row["ssim_y"] - ssim_ref) <= ssim_tol, row["ssim_y"]


def test_srcnn_protocol_lr_is_the_unquantised_double_y(shared_datasets):
    """The srcnn LR is imresize of the double Y of uint8 rgb2ycbcr, not of the uint8 RGB LR: recomputed here
    from the definition with numpy alone on one image."""
    from srbench.degradations import degrade, degrade_ycbcr_double

    hr = M.modcrop(read_image(shared_datasets / "Set5" / "HR" / "baby.png"), 4)
    lr = degrade_ycbcr_double("bicubic", hr, 4)
    y = np.floor(hr.astype(np.float64) / 255 @ np.array([65.481, 128.553, 24.966]) + 16 + 0.5)  # rounded Y
    np.testing.assert_array_equal(lr[:, :, 0], M.imresize(y / 255, 1 / 4))
    assert np.abs(lr[:, :, 0] * 255 - np.round(lr[:, :, 0] * 255)).max() > 0.1   # never quantised
    uint8_lr_y = M.rgb2y(degrade("bicubic", hr, 4, use_cache=False))
    assert np.abs(uint8_lr_y - lr[:, :, 0] * 255).max() > 0.5   # and not the uint8 pipeline's LR
