"""The Python API (`srbench.run`, `srbench.create_metric`, `srbench.create_method`) gives the numbers the
runner gives, and the PSNR it computes is the textbook MATLAB value, worked out here independently."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import srbench
from srbench import matlab
from srbench.errors import UserError
from srbench.imageio import encode_png, read_image
from srbench.run_layout import sr_image_path


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    monkeypatch.delenv("SRBENCH_SHARED", raising=False)
    return tmp_path


def _psnr_y_by_hand(sr: np.ndarray, hr: np.ndarray, crop: int) -> float:
    """MATLAB: Y = round(16 + (65.481 R + 128.553 G + 24.966 B) / 255) of the uint8 images (MATLAB rounds
    halves away from zero, numpy's round to even), border crop, PSNR."""
    def y(img):
        rgb = img.astype(np.float64) / 255.0
        return np.floor(0.5 + 16.0 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2])
    a, b = y(sr)[crop:-crop, crop:-crop], y(hr)[crop:-crop, crop:-crop]
    return float(10.0 * np.log10(255.0 ** 2 / np.mean((a - b) ** 2)))


def test_run_returns_dataframes_equal_to_the_csv_files_and_create_metric_matches(env):
    result = srbench.run("bicubic", "default", 4, out=env / "run", metrics="psnr_y,ssim_y,niqe")
    assert isinstance(result.per_image, pd.DataFrame) and isinstance(result.summary, pd.DataFrame)
    assert len(result.per_image) == 5 and list(result.summary["method"]) == ["bicubic"]
    assert result.exit_code == 0 and result.errors.empty and result.report is None
    on_disk = pd.read_csv(result.out / "per_image.csv")
    np.testing.assert_array_equal(on_disk["psnr_y"].to_numpy(), result.per_image["psnr_y"].to_numpy())

    from srbench.embedded import resolve_default

    hr_files = {im.name: im.path for im in resolve_default().images}
    psnr = srbench.create_metric("psnr_y", scale=4)
    ssim = srbench.create_metric("ssim_y", scale=4)
    niqe = srbench.create_metric("niqe")
    for row in result.per_image.itertuples():
        sr = read_image(sr_image_path(result.out, "bicubic", "default", 4, row.image))
        hr = read_image(hr_files[row.image])  # full size: create_metric modcrops it, as `srbench score`
        assert psnr(sr, hr) == row.psnr_y
        assert ssim(sr, hr) == row.ssim_y
        assert niqe(sr) == row.niqe
        # 1e-5 dB: a Y exactly halfway between two levels rounds by the last float bit of the product's
        # summation order (a handful of pixels per image); any real error moves PSNR by 1e-3 dB or more
        assert abs(_psnr_y_by_hand(sr, matlab.modcrop(hr, 4), 4) - row.psnr_y) < 1e-5
        assert 20.0 < row.psnr_y < 40.0 and 2.0 < row.niqe < 20.0
    assert psnr.aggregate(result.per_image["psnr_y"]) == pytest.approx(result.summary["psnr_y"].iloc[0], abs=0)


def test_create_method_super_resolves_as_the_run_does(env, tmp_path):
    """srresnet (committed weights) on a small user dataset: the API's SR pixels are the run's SR image."""
    from srbench.degradations import degrade
    from srbench.embedded import resolve_default

    hr = read_image(resolve_default().images[0].path)[:96, :128]
    (tmp_path / "data" / "Tiny" / "HR").mkdir(parents=True)
    (tmp_path / "data" / "Tiny" / "HR" / "a.png").write_bytes(encode_png(hr))
    result = srbench.run(["srresnet"], ["Tiny"], [4], out=tmp_path / "run", metrics=["psnr_y"],
                         data_root=str(tmp_path / "data"), device="cpu")
    model = srbench.create_method("srresnet")
    assert model.scales == (4,) and "sha256:" in model.identity()
    lr = degrade("bicubic", hr, 4)
    sr = model(lr)
    assert sr.dtype == np.uint8 and sr.shape == (96, 128, 3)
    np.testing.assert_array_equal(sr, read_image(sr_image_path(result.out, "srresnet", "Tiny", 4, "a")))
    assert srbench.create_metric("psnr_y")(sr, hr) == result.per_image["psnr_y"].iloc[0]


def test_api_refuses_bad_input_with_user_errors(env):
    with pytest.raises(UserError, match="unknown metric 'psnrr'"):
        srbench.create_metric("psnrr")
    with pytest.raises(UserError, match="unknown method"):
        srbench.create_method("nosuchnet")
    psnr = srbench.create_metric("psnr_y")
    img = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(UserError, match="reference"):
        psnr(img)
    with pytest.raises(UserError, match="uint8"):
        psnr(img.astype(np.float32), img)
    with pytest.raises(UserError, match="32x32"):
        psnr(img, np.zeros((50, 50, 3), np.uint8))
    with pytest.raises(UserError, match="supports x2, x3, x4"):
        srbench.create_method("bicubic", device="cpu")(img)
