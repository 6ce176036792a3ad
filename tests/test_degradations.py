"""Degradations: MATLAB blur kernel, bicubic LR, the on-disk LR cache."""
import numpy as np
import pytest

from srbench import matlab as M
from srbench.degradations import DEGRADATIONS, degrade, gaussian_kernel_2d
from srbench.errors import UserError


def test_gaussian_kernel_is_fspecial():
    k = gaussian_kernel_2d(1.0)
    assert k.shape == (7, 7)  # fspecial size 2*ceil(3 sigma)+1
    one_d = np.exp(-np.arange(-3, 4) ** 2 / 2.0)
    one_d /= one_d.sum()
    np.testing.assert_allclose(k, np.outer(one_d, one_d), atol=1e-15)
    assert k[3, 3] == pytest.approx(0.159241, abs=1e-6)


@pytest.mark.parametrize("scale", [2, 3, 4, 8])
def test_bicubic_lr_is_modcropped_imresize(scale):
    """LR = imresize(modcrop(hr, scale), 1/scale) of MATLAB, checked against the closed form of a separable
    image (tests/matlab_reference.py), not against srbench's own imresize."""
    from matlab_reference import rounded_interior, separable_uint8

    rng = np.random.default_rng(scale)
    h, w = 8 * 9 + 5, 8 * 7 + 3
    channels = [separable_uint8(rng, h, w) for _ in range(3)]
    hr = np.stack([img for img, _, _ in channels], axis=2)
    lr = DEGRADATIONS.create("bicubic").apply(hr, scale)
    assert lr.dtype == np.uint8
    assert lr.shape == (h // scale, w // scale, 3)
    hc, wc = h // scale * scale, w // scale * scale  # modcrop keeps the top-left
    for k, (_, a, b) in enumerate(channels):
        rows, cols, per_pass, _ = rounded_interior(a[:hc], b[:wc], scale)
        assert len(rows) >= 2 and len(cols) >= 2
        np.testing.assert_array_equal(lr[np.ix_(rows, cols, [k])][..., 0], per_pass)
    # the rows and columns modcrop removes never reach the LR image
    other = hr.copy()
    other[hc:] = 255 - other[hc:]
    other[:, wc:] = 0
    np.testing.assert_array_equal(DEGRADATIONS.create("bicubic").apply(other, scale), lr)


def test_blur_bicubic_differs_from_bicubic_and_keeps_constants():
    flat = np.full((32, 32, 3), 90, np.uint8)
    assert np.all(DEGRADATIONS.create("blur-bicubic").apply(flat, 4) == 90)
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    a = DEGRADATIONS.create("blur-bicubic").apply(hr, 4)
    b = DEGRADATIONS.create("bicubic").apply(hr, 4)
    assert a.shape == b.shape and not np.array_equal(a, b)
    assert a.astype(float).std() < b.astype(float).std()  # the extra blur removes detail


def test_lr_cache_roundtrip(tmp_path, monkeypatch):
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path))
    rng = np.random.default_rng(1)
    hr = rng.integers(0, 256, (40, 36, 3), dtype=np.uint8)
    first = degrade("bicubic", hr, 4)
    files = list(tmp_path.rglob("*.npy"))
    assert len(files) == 1
    np.testing.assert_array_equal(degrade("bicubic", hr, 4), first)
    assert not list(tmp_path.rglob("*.part"))


def test_unknown_degradation_hints():
    with pytest.raises(UserError, match="did you mean 'bicubic'"):
        degrade("bicubc", np.zeros((8, 8, 3), np.uint8), 2)
