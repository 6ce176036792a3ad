"""PSNR, SSIM and RMSE against closed-form values."""
import numpy as np
import pytest

from srbench.metrics import EvalContext, EvalImage, create_metric
from srbench.metrics.fidelity import psnr, ssim_index


def test_psnr_closed_form():
    a = np.full((8, 8), 100.0)
    assert psnr(a, a + 1) == pytest.approx(10 * np.log10(255 ** 2))  # 48.1308 dB
    assert psnr(a, a) == float("inf")


def test_ssim_identity_and_constant_offset():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (40, 30)).astype(np.float64)
    assert ssim_index(img, img) == pytest.approx(1.0)
    a, b = np.full((20, 20), 100.0), np.full((20, 20), 110.0)
    c1 = (0.01 * 255) ** 2
    assert ssim_index(a, b) == pytest.approx((2 * 100 * 110 + c1) / (100 ** 2 + 110 ** 2 + c1))
    assert ssim_index(np.zeros((8, 8)), np.zeros((8, 8))) == float("-inf")  # smaller than the window


def test_ssim_valid_filtering_uses_only_interior():
    from matlab_reference import ssim_bruteforce

    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (30, 30)).astype(np.float64)
    b = a.copy()
    b[:, 0] = 0  # only the first column differs: only the 20 'valid' windows of map column 0 see it
    b2 = a.copy()
    b2[15, 15] += 50
    for other in (b, b2):
        assert ssim_index(a, other) == pytest.approx(ssim_bruteforce(a, other), rel=0, abs=1e-12)
    # 'valid': the SSIM map is 20x20 and only its first column moved, so 1 - ssim = (1 - column mean) / 20
    first_column = ssim_bruteforce(a[:, :11], b[:, :11])  # the 20 windows of map column 0
    assert 1 - ssim_index(a, b) == pytest.approx((1 - first_column) / 20, rel=1e-9)


def _pair(sr, hr, scale=4, protocol="matlab"):
    return EvalImage(sr), EvalImage(hr), EvalContext.make(scale, protocol)


def test_metrics_crop_border_by_protocol():
    hr = np.full((32, 32, 1), 100, np.uint8)
    sr = hr.copy()
    sr[:4] = 0  # damage only the 4-pixel border
    metric = create_metric("psnr_y")
    assert metric.compute(*_pair(sr, hr, 4)) == float("inf")
    # crop 3 keeps one damaged row out of 26: MSE = 100^2 / 26
    assert metric.compute(*_pair(sr, hr, 3)) == pytest.approx(10 * np.log10(255 ** 2 * 26 / 100 ** 2))
    assert metric.compute(*_pair(sr, hr, 2, "srgan")) == float("inf")  # SRGAN crops 4 at every scale


def test_grayscale_image_is_its_own_y():
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8, 1)
    assert np.array_equal(EvalImage(gray).y, gray[:, :, 0].astype(np.float64))
    rgb = np.repeat(gray, 3, axis=2)
    assert not np.array_equal(EvalImage(rgb).y, EvalImage(gray).y)  # RGB uses 16 + 219/255 g


def test_rmse_pirm_shave_and_dataset_aggregate():
    hr = np.full((20, 20, 1), 50, np.uint8)
    sr = hr.copy()
    sr[4:-4, 4:-4] += 3
    sr[:4] = 200  # inside the 4-px shave: ignored
    metric = create_metric("rmse")
    assert metric.compute(*_pair(sr, hr)) == pytest.approx(3.0)
    assert not metric.higher_is_better
    # PIRM: dataset RMSE is sqrt(mean(MSE)), not the mean of the per-image RMSEs
    assert metric.aggregate(np.array([3.0, 4.0])) == pytest.approx(np.sqrt((9 + 16) / 2))
