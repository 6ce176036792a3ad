"""Each evaluation protocol's numbers on one image pair, against formulas written out in the test.

`srbench run --protocol P` is run on a one-image dataset; its PSNR, SSIM and RMSE must equal what the
protocol's definition gives on the SR image the run saved: Y of rgb2ycbcr (rounded for the uint8
pipelines, unrounded for basicsr), the protocol's border crop, Wang et al.'s SSIM by brute force.
Two scales, so that "crop = scale" and "crop = 4" protocols are told apart.
"""
import numpy as np
import pandas as pd
import pytest

from srbench.cli import main
from srbench.imageio import read_image, write_png_atomic
from matlab_reference import psnr_by_hand, ssim_bruteforce, y_by_hand

# protocol -> (rounded Y?, border crop as a function of the scale), as the papers' scripts define them
PROTOCOLS = {
    "matlab": (True, lambda s: s),
    "srgan": (True, lambda s: 4),
    "pirm": (True, lambda s: 4),
    "basicsr": (False, lambda s: s),
    "selfexsr": (True, lambda s: 6 + s),
}


@pytest.fixture(scope="module")
def one_image(tmp_path_factory):
    root = tmp_path_factory.mktemp("proto")
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:61, 0:55]
    base = 120 + 60 * np.sin(xx / 5.0)[..., None] * np.cos(yy / 7.0)[..., None] * np.array([1.0, 0.6, -0.8])
    hr = np.clip(base + rng.normal(0, 18, (61, 55, 3)), 0, 255).round().astype(np.uint8)
    write_png_atomic(root / "data" / "One" / "HR" / "pic.png", hr)
    return root, hr


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_protocol_values_match_their_definition(protocol, one_image, monkeypatch):
    root, hr = one_image
    monkeypatch.setenv("SRBENCH_CACHE", str(root / f"cache-{protocol}"))
    out = root / f"run-{protocol}"
    assert main(["run", "--methods", "bicubic", "--datasets", "One", "--data-root", str(root / "data"),
                 "--scale", "2,3", "--protocol", protocol, "--metrics", "psnr_y,ssim_y,rmse",
                 "--out", str(out), "--no-report", "--quiet"]) == 0
    table = pd.read_csv(out / "per_image.csv").set_index("scale")
    quantize, crop_of = PROTOCOLS[protocol]
    for scale in (2, 3):
        sr = read_image(out / "sr" / "bicubic" / "One" / f"x{scale}" / "pic.png")
        h, w = hr.shape[0] // scale * scale, hr.shape[1] // scale * scale  # modcrop
        assert sr.shape == (h, w, 3)
        y_sr, y_hr = y_by_hand(sr, quantize), y_by_hand(hr[:h, :w], quantize)
        c = crop_of(scale)
        inner = (slice(c, h - c), slice(c, w - c))
        row = table.loc[scale]
        assert row["psnr_y"] == pytest.approx(psnr_by_hand(y_sr[inner], y_hr[inner]), rel=0, abs=1e-10), scale
        assert row["ssim_y"] == pytest.approx(ssim_bruteforce(y_sr[inner], y_hr[inner]), rel=0, abs=1e-10), scale
        # RMSE is PIRM's: a 4-pixel shave whatever the protocol's crop, on the protocol's Y
        d = (y_sr - y_hr)[4:h - 4, 4:w - 4]
        assert row["rmse"] == pytest.approx(np.sqrt(np.mean(d * d)), rel=0, abs=1e-10), scale


def test_rounded_and_unrounded_y_give_different_numbers(one_image):
    """The basicsr check above has power: on this pair the unrounded Y moves PSNR well beyond 1e-10."""
    _, hr = one_image
    noisy = np.clip(hr.astype(int) + 3, 0, 255).astype(np.uint8)
    a = psnr_by_hand(y_by_hand(noisy, True)[2:-2, 2:-2], y_by_hand(hr, True)[2:-2, 2:-2])
    b = psnr_by_hand(y_by_hand(noisy, False)[2:-2, 2:-2], y_by_hand(hr, False)[2:-2, 2:-2])
    assert abs(a - b) > 1e-3
