"""NIQE's block size and local window, on synthetic images with closed-form values (no model file needed).

computequality.m: MSCN = (im - mu) / (sigma + 1) with mu, sigma from fspecial('gaussian', 7, 7/6) and
'replicate' borders; features per 96x96 block (48x48 at the half scale).
"""
import numpy as np
import pytest

from srbench.metrics import niqe as N
from matlab_reference import gaussian_window_2d


def _impulse(size=31):
    im = np.zeros((size, size))
    im[size // 2, size // 2] = 1.0
    return im


def test_mscn_of_an_impulse_is_the_7x7_gaussian_closed_form():
    # mu = window value g at the offset; E[im^2] is the same g (im is 0 or 1), so sigma = sqrt(g - g^2).
    g = gaussian_window_2d(7, 7.0 / 6.0)
    im = _impulse()
    structdis, _ = N.mscn(im)
    c = im.shape[0] // 2
    for di in range(-3, 4):
        for dj in range(-3, 4):
            w = g[3 + di, 3 + dj]
            value = 1.0 if (di, dj) == (0, 0) else 0.0
            want = (value - w) / (np.sqrt(w - w * w) + 1.0)
            assert structdis[c + di, c + dj] == pytest.approx(want, rel=1e-12, abs=1e-15), (di, dj)
    # outside the 7x7 window the impulse is invisible: exactly zero
    ring = np.ones_like(im, dtype=bool)
    ring[c - 3:c + 4, c - 3:c + 4] = False
    assert np.all(structdis[ring] == 0.0)


def test_fspecial_window_centre_value():
    # fspecial('gaussian', 7, 7/6) centre weight, from the normalising sum of exp(-(i^2 + j^2) / (2 sigma^2))
    total = sum(np.exp(-(i * i + j * j) / (2 * (7 / 6) ** 2)) for i in range(-3, 4) for j in range(-3, 4))
    assert N.gaussian_window_1d()[3] ** 2 == pytest.approx(1.0 / total, rel=1e-14)
    assert N.gaussian_window_1d().size == 7


@pytest.mark.parametrize("shape,blocks", [((96, 96), 1), ((96, 192), 2), ((191, 290), 3 * 1), ((200, 300), 2 * 3)])
def test_niqe_features_use_96_pixel_blocks(shape, blocks):
    rng = np.random.default_rng(0)
    im = rng.uniform(0, 255, shape)
    feats = N.niqe_features(im)
    # image cropped to a multiple of 96, one row of 18 + 18 features per 96x96 block
    assert feats.shape == ((shape[0] // 96) * (shape[1] // 96), 36)


def test_niqe_features_of_a_block_ignore_pixels_outside_it():
    """Each 96x96 block's scale-1 features depend only on its pixels and their 3-pixel MSCN neighbourhood:
    changing a far block's content changes no other block's features."""
    rng = np.random.default_rng(1)
    im = rng.uniform(0, 255, (96, 288))
    other = im.copy()
    other[:, 200:] = rng.uniform(0, 255, (96, 88))  # inside the third block, > 3 px from the second
    a, b = N.niqe_features(im), N.niqe_features(other)
    np.testing.assert_array_equal(a[0, :18], b[0, :18])
    assert not np.array_equal(a[2, :18], b[2, :18])

