"""Ma et al. score: each stage of the pipeline checked on a property its definition implies.

The trained model is not available here, so the forests are synthetic ones in the canonical format
(tests/ma_model_fixture.py); the metric must say it is unavailable when no model resolves.
"""
import numpy as np
import pytest
import scipy.fft

from srbench.errors import AssetError, Unavailable
from srbench.metrics import EvalContext, EvalImage, create_metric
from srbench.metrics import ma as M
from tests.ma_model_fixture import FEATURE_DIMS, hide_ma_model, ma_by_hand, walk_tree, write_model


def _natural_like(shape=(96, 112), seed=0):
    """Smooth random field plus edges: a stand-in image with structure at several scales."""
    rng = np.random.default_rng(seed)
    from scipy.ndimage import gaussian_filter

    img = gaussian_filter(rng.standard_normal(shape), 3) * 400 + 128
    img[:, shape[1] // 2:] += 40
    img += rng.standard_normal(shape) * 3
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- f1

def test_dct_matrix_is_matlab_dct2():
    rng = np.random.default_rng(0)
    b = rng.standard_normal((4, 7, 7))
    d = M.dct_matrix(7)
    np.testing.assert_allclose(d @ d.T, np.eye(7), atol=1e-14)
    np.testing.assert_allclose(d @ b @ d.T, scipy.fft.dctn(b, axes=(1, 2), norm="ortho"), atol=1e-12)


def test_blkproc_blocks_layout():
    im = np.arange(8 * 10, dtype=float).reshape(8, 10) + 1
    blocks = M.blkproc_blocks(im)
    assert blocks.shape == (3 * 4, 7, 7)  # ceil(8/3) x ceil(10/3) blocks of 3 + 2*2
    np.testing.assert_array_equal(blocks[0, 2:5, 2:5], im[0:3, 0:3])
    np.testing.assert_array_equal(blocks[5, :, :], np.pad(im, ((2, 3), (2, 4)))[3:10, 3:10])
    assert np.all(blocks[0, :2] == 0) and np.all(blocks[-1, -3:] == 0)  # zero border and padding


@pytest.mark.parametrize("shape", [0.6, 1.0, 2.0])
def test_ggd_shape_recovers_generalised_gaussian_shape(shape):
    rng = np.random.default_rng(7)  # GGD sample: |x|^shape ~ Gamma(1/shape), random sign
    x = rng.gamma(1.0 / shape, size=200_000) ** (1.0 / shape) * rng.choice([-1.0, 1.0], 200_000)
    assert abs(float(M.ggd_shape(x)) - shape) < 0.05 * shape


def test_pooling_uses_matlab_index_conventions():
    v = np.arange(25, dtype=float)[::-1]  # n = 25
    assert M.pool_low(v) == pytest.approx(np.mean([0, 1, 2]))       # 1:ceil(2.5) = 3 values
    assert M.pool_high(v) == pytest.approx(np.mean([21, 22, 23, 24]))  # fix(22.5)=22 : end = 4 values


def test_local_frequency_features_are_contrast_invariant():
    """Shape, coefficient of variation and their orientation spread are scale-free statistics."""
    im = _natural_like().astype(float) / 255.0
    a = M.block_dct_features(im)
    b = M.block_dct_features(im * 3.0)
    np.testing.assert_allclose(a, b, rtol=2e-3)
    assert a.shape == (6,)


def test_gaussian_pyramid_sizes_and_constant_image():
    levels = M.gaussian_pyramid(np.full((31, 40), 0.5))
    assert [lv.shape for lv in levels] == [(31, 40), (15, 20), (7, 10)]
    assert levels[1][3, 3] == pytest.approx(0.5)  # interior: weights sum to 1
    assert levels[1][0, 0] == pytest.approx(0.5)  # (2,2) of the filtered image is interior too


# ---------------------------------------------------------------- f2

def _grating(shape, freq, angle):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return 100 * np.cos(2 * np.pi * freq * (np.cos(angle) * xx + np.sin(angle) * yy)) + 128


def test_steerable_pyramid_orientation_selectivity():
    shape = (96, 96)
    energies = []
    for img in (_grating(shape, 0.2, 0.0), _grating(shape, 0.2, 0.0).T):
        pyr = M.steerable_pyramid(img, 2, 6)
        energies.append([np.sum(b ** 2) for b in pyr[1:7]])
    first, transposed = np.argmax(energies[0]), np.argmax(energies[1])
    assert (transposed - first) % 6 == 3  # transposing turns the grating by 90 deg = 3 bands of 30 deg


def test_steerable_pyramid_constant_image_goes_to_lowpass_only():
    c = 7.0
    pyr = M.steerable_pyramid(np.full((40, 52), c), 2, 6)
    assert [p.shape for p in pyr] == [(40, 52)] * 7 + [(20, 26)] * 6 + [(10, 13)]
    for band in pyr[:-1]:
        assert np.max(np.abs(band)) < 1e-10
    # The cropped spectrum keeps the DC coefficient, so the smaller inverse FFT scales it by the area ratio.
    np.testing.assert_allclose(pyr[-1], c * (40 * 52) / (10 * 13), rtol=1e-12)


def test_gsm_normalisation_sizes_zero_mean_and_gain_invariance():
    img = _natural_like((80, 96)).astype(float)
    bands = M.steerable_pyramid(img, 2, 6)[1:-1]
    sub = M.gsm_normalize(bands)
    assert [s.shape for s in sub] == [(80 - 2 - 32, 96 - 2 - 32)] * 6 + [(40 - 2 - 16, 48 - 2 - 16)] * 6
    assert all(abs(s.mean()) < 1e-12 for s in sub)
    # z = sqrt(v' C^-1 v / N) is a Mahalanobis norm, free of the bands' gain, so the output carries
    # the gain linearly and the GGD shapes taken from it do not depend on it.
    scaled = M.gsm_normalize([b * 5.0 for b in bands])
    for a, b in zip(sub, scaled):
        np.testing.assert_allclose(b, 5.0 * a, rtol=1e-8, atol=1e-10)
        assert float(M.ggd_shape(a.ravel())) == float(M.ggd_shape(b.ravel()))


def test_gsm_normalisation_parent_quirk_of_the_matlab_code():
    """`prnt = nband < Nband - Nor`: fine-scale orientation 6 has no parent, orientations 1..5 have."""
    img = _natural_like((80, 96), seed=3).astype(float)
    bands = M.steerable_pyramid(img, 2, 6)[1:-1]
    base = M.gsm_normalize(bands)
    rng = np.random.default_rng(0)
    for coarse, should_change in ((6 + 5, False), (6 + 0, True)):
        changed = list(bands)
        changed[coarse] = bands[coarse] + rng.standard_normal(bands[coarse].shape)
        fine = M.gsm_normalize(changed)[coarse - 6]
        assert (not np.allclose(fine, base[coarse - 6])) == should_change


def test_ssim_cs_is_one_for_identical_and_lower_for_unrelated():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((40, 40)) * 30
    assert M.ssim_cs(M.local_moments(a), M.local_moments(a)) == pytest.approx(1.0)
    assert M.ssim_cs(M.local_moments(a), M.local_moments(rng.standard_normal((40, 40)) * 30)) < 0.2


# ---------------------------------------------------------------- f3 and the whole feature vector

def test_spatial_features_ignore_block_order():
    im = _natural_like((50, 60)).astype(float)
    swapped = im.copy()
    swapped[0:5, 0:5], swapped[10:15, 20:25] = im[10:15, 20:25], im[0:5, 0:5]
    np.testing.assert_allclose(M.spatial_features([im]), M.spatial_features([swapped]), rtol=1e-10)
    s = M.spatial_features([im])
    assert s.shape == (25,) and np.all(np.diff(s) <= 0)


def test_im2col_distinct_matches_matlab_column_layout():
    im = np.arange(1, 7 * 6 + 1, dtype=float).reshape(7, 6)
    cols = M.im2col_distinct(im, 5)
    assert cols.shape == (25, 4)  # ceil(7/5) * ceil(6/5) blocks, zero padded
    np.testing.assert_array_equal(cols[:, 0], im[:5, :5].T.ravel())  # column-major within the block
    np.testing.assert_array_equal(cols[:, 1], np.pad(im, ((0, 3), (0, 4)))[5:10, 0:5].T.ravel())


def test_ma_feature_vector_dimensions():
    feats = M.ma_features(_natural_like((100, 100)))
    assert (feats.local_freq.size, feats.global_freq.size, feats.spatial.size) == FEATURE_DIMS
    assert np.all(np.isfinite(feats.local_freq)) and np.all(np.isfinite(feats.global_freq))


# ---------------------------------------------------------------- forests, model file, metric

def test_forest_evaluation_matches_node_by_node_walk(tmp_path):
    path = tmp_path / "model.mat"
    forests = write_model(path, seed=1)
    model = M.load_ma_model(str(path))
    rng = np.random.default_rng(5)
    for forest_struct, forest, n in zip(forests, model.forests, FEATURE_DIMS):
        for _ in range(20):
            x = rng.standard_normal(n)
            want = np.mean([walk_tree(forest_struct, t, x) for t in range(forest.left.shape[1])])
            assert forest.predict(x) == pytest.approx(want, rel=1e-12)


def test_model_linear_combination_and_bias_correction(tmp_path):
    path = tmp_path / "model_bias.mat"
    forests = write_model(path, seed=2, linear=(2.0, 0.5, -1.0, 0.25), coef=(0.1, 0.9))
    model = M.load_ma_model(str(path))
    feats = M.MaFeatures(np.zeros(18), np.ones(45), np.full(75, -0.5))
    s = []
    for f, x in zip(forests, (feats.local_freq, feats.global_freq, feats.spatial)):
        raw = np.mean([walk_tree(f, t, x) for t in range(f["lDau"].shape[1])])
        s.append(0.1 + 0.9 * raw)  # regRF_predict's bias correction coef(1) + coef(2) * y
    assert model.predict(feats) == pytest.approx(2.0 + 0.5 * s[0] - 1.0 * s[1] + 0.25 * s[2])


def test_ma_metric_uses_resolved_model(tmp_path, monkeypatch):
    path = tmp_path / "model.mat"
    linear = (1.0, 0.5, 0.3, 0.2)
    forests = write_model(path, seed=3, linear=linear)
    monkeypatch.setenv("SRBENCH_MA_MODEL", str(path))
    img = np.repeat(_natural_like((100, 100))[:, :, None], 3, axis=2)
    metric = create_metric("ma")
    metric.prepare()
    value = metric.compute(EvalImage(img), None, EvalContext.make(4))
    # rgb2gray of a grey RGB image is the grey plane itself (the weights sum to 1)
    assert value == pytest.approx(ma_by_hand(forests, linear, M.ma_features(img[:, :, 0])), rel=1e-12)
    # another model file gives another value: the metric reads the file SRBENCH_MA_MODEL names
    other = tmp_path / "other.mat"
    write_model(other, seed=4, linear=(2.0, 0.1, 0.1, 0.1))
    monkeypatch.setenv("SRBENCH_MA_MODEL", str(other))
    fresh = create_metric("ma")
    fresh.prepare()
    assert fresh.compute(EvalImage(img), None, EvalContext.make(4)) != pytest.approx(value, abs=1e-6)


def test_ma_is_unavailable_without_model(tmp_path, monkeypatch):
    hide_ma_model(monkeypatch, tmp_path)
    with pytest.raises(Unavailable, match="Ma et al. model"):
        create_metric("ma").prepare()


def test_malformed_model_file_is_an_asset_error(tmp_path):
    bad = tmp_path / "bad.mat"
    bad.write_bytes(b"not a mat file")
    with pytest.raises(AssetError):
        M.load_ma_model(str(bad))
