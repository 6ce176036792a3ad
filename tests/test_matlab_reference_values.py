"""MATLAB image operations against values derived independently of srbench's code.

The expected numbers come from the MATLAB documentation's constants typed in again, from exact rational
arithmetic, or from closed forms (tests/matlab_reference.py); none is computed with srbench.matlab.
Colours sit within a few thousandths of a grey level of a .5 rounding boundary, so a coefficient wrong in
its third decimal flips at least one of them.
"""
from fractions import Fraction

import numpy as np
import pytest

from srbench import matlab as M
from srbench.metrics.fidelity import ssim_index
from matlab_reference import BT601, BT601_OFFSET, rounded_interior, separable_uint8, ssim_bruteforce

# ---------------------------------------------------------------- rgb2ycbcr


def test_rgb2ycbcr_float_is_the_full_bt601_matrix():
    # rgb2ycbcr of double RGB in [0, 1]: offset/255 + T/255 * rgb, all three rows and columns.
    unit = np.eye(3)[None]  # pure red, green, blue
    out = M.rgb2ycbcr(unit)[0] * 255.0
    for col in range(3):
        for row in range(3):
            assert out[col, row] == pytest.approx(BT601_OFFSET[row] + BT601[row][col], abs=1e-9), (row, col)
    rng = np.random.default_rng(7)
    rgb = rng.random((3, 4, 3))
    expected = np.stack([BT601_OFFSET[r] + sum(BT601[r][c] * rgb[..., c] for c in range(3)) for r in range(3)],
                        axis=-1)
    np.testing.assert_allclose(M.rgb2ycbcr(rgb) * 255.0, expected, rtol=0, atol=1e-9)


# Colour -> MATLAB rgb2ycbcr(uint8(colour)). Each channel's exact value (rational arithmetic on the
# BT.601 constants, in the comment) lies within 0.0005 of a .5 boundary, and together they flip when
# any of the nine coefficients moves by 0.001 in either direction.
YCBCR_NEAR_HALF = {
    (96, 128, 132): (118, 135, 114),   # Cb = 134.5000157
    (125, 128, 160): (128, 142, 124),  # Cb = 142.4995725
    (127, 131, 121): (126, 124, 127),  # Y = 126.4996706
    (128, 124, 134): (125, 132, 129),  # Y = 124.5003294
    (128, 128, 121): (125, 125, 128),  # Cr = 128.4999922
    (128, 128, 135): (127, 131, 128),  # Cr = 127.5000078
    (131, 128, 96): (124, 114, 132),   # Cb = 113.5004275
}


def _exact_ycbcr(colour):
    return [Fraction(str(BT601_OFFSET[r])) + sum(Fraction(str(BT601[r][c])) * colour[c] for c in range(3))
            / 255 for r in range(3)]


def test_rgb2ycbcr_uint8_rounds_like_matlab_near_half_boundaries():
    for colour, expected in YCBCR_NEAR_HALF.items():
        exact = _exact_ycbcr(colour)  # the table is what exact arithmetic rounds (half away) to
        assert [int(v + Fraction(1, 2)) for v in exact] == list(expected)
        assert min(abs(v - int(v) - Fraction(1, 2)) for v in exact) < Fraction(5, 10000)
    colours = np.array([list(YCBCR_NEAR_HALF)], dtype=np.uint8)
    got = M.rgb2ycbcr(colours)[0]
    assert got.dtype == np.uint8
    assert [tuple(map(int, px)) for px in got] == list(YCBCR_NEAR_HALF.values())
    # the Y plane the metrics use is the first row of the same table
    np.testing.assert_array_equal(M.rgb2y(colours)[0], [v[0] for v in YCBCR_NEAR_HALF.values()])


# ---------------------------------------------------------------- rgb2gray

# MATLAB rgb2gray: the first row of inv([1 0.956 0.621; 1 -0.272 -0.647; 1 -1.106 1.703]).
GRAY_WEIGHTS = ("0.298936021293776", "0.587043074451121", "0.114020904255103")
GRAY_NEAR_HALF = {
    (128, 127, 128): 127,  # 127.41296: +0.001 on any weight crosses 127.5
    (128, 129, 128): 129,  # 128.58704: -0.001 on any weight crosses 128.5
    (76, 126, 165): 116,   # 115.5000142
    (158, 109, 20): 114,   # 113.5000046
    (84, 133, 222): 128,   # 128.4999954
    (208, 158, 119): 168,  # 168.4999858
}


def test_rgb2gray_weights_are_the_inverse_ntsc_row():
    ntsc = np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.106, 1.703]])
    row = np.linalg.inv(ntsc)[0]
    np.testing.assert_allclose(row, [float(w) for w in GRAY_WEIGHTS], rtol=0, atol=1e-14)
    np.testing.assert_allclose(M.rgb2gray(np.eye(3)[None])[0], row, rtol=0, atol=1e-14)


def test_rgb2gray_uint8_rounds_like_matlab_near_half_boundaries():
    for colour, expected in GRAY_NEAR_HALF.items():
        exact = sum(Fraction(w) * c for w, c in zip(GRAY_WEIGHTS, colour))
        assert int(exact + Fraction(1, 2)) == expected
    colours = np.array([list(GRAY_NEAR_HALF)], dtype=np.uint8)
    assert M.rgb2gray(colours)[0].tolist() == list(GRAY_NEAR_HALF.values())


# ---------------------------------------------------------------- imresize


def test_imresize_half_is_antialiased_keys_cubic():
    # x1/2: output x samples u = 2x - 0.5; the antialiased kernel cubic(d/2)/2 at distances 0.5..3.5 gives
    # weights 111, 29, -9, -3 (/256) on each side. Without antialiasing it would be (9, -1)/16.
    row = np.zeros((1, 32))
    row[0, 15] = 1.0  # 1-based position 16
    out = M.imresize(row, output_shape=(1, 16))[0]
    # outputs x = 7..10 sample u = 13.5, 15.5, 17.5, 19.5: distances 2.5, 0.5, 1.5, 3.5 from the impulse
    expected = np.zeros(16)
    expected[[6, 7, 8, 9]] = np.array([-9, 111, 29, -3]) / 256
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_imresize_uint8_rounds_after_each_pass(factor):
    rng = np.random.default_rng(10 + factor)
    img, a, b = separable_uint8(rng, 16 * factor, 15 * factor)
    out = M.imresize(img, 1 / factor)
    assert out.dtype == np.uint8 and out.shape == (16, 15)
    rows, cols, per_pass, float_only = rounded_interior(a, b, factor)
    np.testing.assert_array_equal(out[np.ix_(rows, cols)], per_pass)
    assert np.any(per_pass != float_only)  # the data can tell the two rounding orders apart


# ---------------------------------------------------------------- SSIM


def test_ssim_valid_equals_brute_force_windows():
    rng = np.random.default_rng(21)
    a = rng.integers(0, 256, (19, 16)).astype(np.float64)
    b = np.clip(a + rng.normal(0, 25, a.shape), 0, 255).round()
    want = ssim_bruteforce(a, b)
    assert ssim_index(a, b) == pytest.approx(want, rel=0, abs=1e-12)
    # structure only: an unrelated image, and a contrast-reduced one
    c = rng.integers(0, 256, (19, 16)).astype(np.float64)
    assert ssim_index(a, c) == pytest.approx(ssim_bruteforce(a, c), rel=0, abs=1e-12)
    d = 0.5 * a + 60
    assert ssim_index(a, d) == pytest.approx(ssim_bruteforce(a, d), rel=0, abs=1e-12)
