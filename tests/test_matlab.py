"""MATLAB image operations against hand-computed values and identities."""
import numpy as np
import pytest

from srbench import matlab as M


def test_round_half_away_from_zero_and_saturate():
    assert M.to_uint8(np.array([0.5, 1.5, 2.5, 254.5, 255.5, -0.5, -3.0])).tolist() == [1, 2, 3, 255, 255, 0, 0]
    assert M.round_half_away(np.array([-2.5, -1.5, 2.5])).tolist() == [-3, -2, 3]


def test_rgb2ycbcr_known_values():
    px = np.array([[[255, 255, 255], [0, 0, 0], [255, 0, 0]]], dtype=np.uint8)
    out = M.rgb2ycbcr(px)
    # MATLAB: rgb2ycbcr(uint8([255 0 0])) = [81 90 240]; white = [235 128 128]; black = [16 128 128]
    assert out[0].tolist() == [[235, 128, 128], [16, 128, 128], [81, 90, 240]]
    y = M.rgb2y(px, quantize=False)
    assert y[0, 2] == pytest.approx(16 + 65.481)


def test_rgb2ycbcr_float_matches_formula():
    rng = np.random.default_rng(0)
    rgb = rng.random((4, 5, 3))
    y = M.rgb2ycbcr(rgb)[..., 0] * 255
    expected = 16 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]
    np.testing.assert_allclose(y, expected, atol=1e-10)


def test_ycbcr_roundtrip_within_one_level():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    back = M.ycbcr2rgb(M.rgb2ycbcr(rgb))
    assert np.abs(back.astype(int) - rgb.astype(int)).max() <= 2
    f = rgb.astype(np.float64) / 255
    np.testing.assert_allclose(M.ycbcr2rgb(M.rgb2ycbcr(f)), f, atol=1e-12)


def test_rgb2gray_matlab_weights():
    px = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 10, 10]]], dtype=np.uint8)
    # 0.298936*255 = 76.23 -> 76; 0.587043*255 = 149.70 -> 150; 0.114021*255 = 29.08 -> 29
    assert M.rgb2gray(px)[0].tolist() == [76, 150, 29, 10]


def test_modcrop_odd_sizes():
    img = np.zeros((13, 10, 3), np.uint8)
    assert M.modcrop(img, 4).shape == (12, 8, 3)
    assert M.modcrop(img, 3).shape == (12, 9, 3)
    assert M.modcrop(img[:, :, 0], 8).shape == (8, 8)


@pytest.mark.parametrize("shape,scale,expected", [((7, 5), 1 / 3, (3, 2)), ((9, 13), 3, (27, 39)),
                                                  ((16, 24), 1 / 8, (2, 3)), ((5, 7), 8, (40, 56)),
                                                  ((11, 11), 0.5, (6, 6))])
def test_imresize_output_size_is_ceil(shape, scale, expected):
    assert M.imresize(np.zeros(shape), scale).shape == expected


def test_imresize_x2_weights_are_keys_cubic():
    # An impulse in the interior of a row: x2 upscaling spreads it with the Keys (a=-0.5) weights
    # at distances 1.75, 1.25, 0.75, 0.25 -> -0.0234375, -0.0703125, 0.2265625, 0.8671875 (by hand).
    row = np.zeros((1, 9))
    row[0, 4] = 1.0
    out = M.imresize(row, output_shape=(1, 18))
    nonzero = out[0][np.abs(out[0]) > 1e-12]
    np.testing.assert_allclose(sorted(nonzero), sorted([-0.0234375, -0.0703125, 0.2265625, 0.8671875,
                                                         0.8671875, 0.2265625, -0.0703125, -0.0234375]))


@pytest.mark.parametrize("scale", [2, 3, 4, 8])
def test_imresize_reproduces_linear_ramp_in_interior(scale):
    # Cubic convolution with a=-0.5 reproduces linear functions exactly; MATLAB maps output x to
    # input u = x/scale + 0.5(1 - 1/scale) (1-based), so the interior of a ramp i -> i becomes u.
    n = 32
    ramp = np.tile(np.arange(1, n + 1, dtype=np.float64), (3, 1))
    up = M.imresize(ramp, output_shape=(3, n * scale))
    x = np.arange(1, n * scale + 1)
    u = x / scale + 0.5 * (1 - 1 / scale)
    interior = slice(3 * scale, n * scale - 3 * scale)
    np.testing.assert_allclose(up[1, interior], u[interior], atol=1e-12)
    down = M.imresize(ramp, output_shape=(3, n // 2))  # antialiased downscale: symmetric kernel, still exact
    xd = np.arange(1, n // 2 + 1)
    np.testing.assert_allclose(down[1, 3:-3], (xd * 2 - 0.5)[3:-3], atol=1e-12)


@pytest.mark.parametrize("scale", [1 / 2, 1 / 3, 1 / 4, 1 / 8, 2, 3, 4, 8])
def test_imresize_constant_is_constant(scale):
    img = np.full((24, 17, 3), 77, np.uint8)
    out = M.imresize(img, scale)
    assert out.dtype == np.uint8 and np.all(out == 77)


# test_imresize_uint8_rounds_after_each_pass: see tests/test_matlab_reference_values.py (closed-form expectation
# instead of one built from imresize's own private functions).


def test_imresize_grayscale_and_channels_agree():
    rng = np.random.default_rng(4)
    img = rng.integers(0, 256, (12, 9, 3), dtype=np.uint8)
    both = M.imresize(img, 3)
    for c in range(3):
        np.testing.assert_array_equal(both[:, :, c], M.imresize(img[:, :, c], 3))
