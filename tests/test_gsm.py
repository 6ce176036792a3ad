"""GSM (gradient similarity): identity, monotonicity and the invariances its definition implies."""
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from srbench.metrics import EvalContext, EvalImage, create_metric
from srbench.metrics.gsm import OPERATORS, gradient_map, gsm


def _image(seed=0, shape=(64, 72)):
    rng = np.random.default_rng(seed)
    img = gaussian_filter(rng.standard_normal(shape), 2.5) * 300 + 120
    img[20:40, 10:50] += 60  # a bright rectangle: strong edges
    return np.clip(img, 0, 255)


def test_identical_images_score_one():
    img = _image()
    assert gsm(img, img) == pytest.approx(1.0, abs=1e-15)
    flat = np.full((16, 16), 77.0)
    assert gsm(flat, flat) == 1.0  # zero gradients everywhere: still defined


def test_monotone_under_increasing_blur():
    img = _image(1)
    scores = [gsm(img, gaussian_filter(img, s)) for s in (0.5, 1.0, 2.0, 4.0)]
    assert all(a > b for a, b in zip(scores, scores[1:])), scores
    assert scores[0] < 1.0


def test_monotone_under_increasing_noise():
    img = _image(2)
    noise = np.random.default_rng(3).standard_normal(img.shape)
    scores = [gsm(img, img + s * noise) for s in (1.0, 4.0, 16.0, 48.0)]
    assert all(a > b for a, b in zip(scores, scores[1:])), scores


def test_symmetric_in_its_arguments():
    a, b = _image(4), gaussian_filter(_image(4), 1.5) + 3
    assert gsm(a, b) == pytest.approx(gsm(b, a), abs=1e-15)


@pytest.mark.parametrize("op", [np.transpose, np.fliplr, np.flipud, lambda a: np.rot90(a, 1)])
def test_invariant_to_flips_and_quarter_turns(op):
    """The four operators map onto each other (up to sign) under the dihedral group of the square."""
    a = _image(5)
    b = a + np.random.default_rng(6).standard_normal(a.shape) * 8
    assert gsm(op(a), op(b)) == pytest.approx(gsm(a, b), rel=1e-12)


def test_operator_set_is_closed_under_transpose_and_flips():
    ops = [tuple(m.ravel()) for m in OPERATORS]
    for t in (np.transpose, np.fliplr, np.flipud):
        for m in OPERATORS:
            img = t(m)
            assert tuple(img.ravel()) in ops or tuple((-img).ravel()) in ops


def test_invariant_to_a_common_brightness_offset():
    """Gradients ignore offsets (each operator sums to zero) and luminance uses the difference only."""
    a = _image(7) * 0.5
    b = gaussian_filter(a, 1.0)
    assert gsm(a + 40.0, b + 40.0) == pytest.approx(gsm(a, b), rel=1e-12)
    assert all(m.sum() == 0 for m in OPERATORS)


def test_luminance_term_counts_a_uniform_shift():
    a = _image(8)
    shifted = gsm(a, a + 30.0)  # same gradients, different luminance
    assert shifted < 1.0
    s = 1.0  # gradient similarity is exactly 1, so q = (1 - p) + p * (1 - (30/255)^2)
    assert shifted == pytest.approx((1 - 0.1 * s) * s + 0.1 * s * (1 - (30 / 255) ** 2))


def test_gradient_map_of_a_step_edge():
    step = np.zeros((9, 9))
    step[:, 5:] = 16.0
    g = gradient_map(step)
    assert g.shape == (5, 5)
    # The vertical operator's column taps sum to 16 on each side: a step of 16 gives 16 at the edge.
    assert g.max() == pytest.approx(16.0)


def test_metric_crops_border_and_uses_y():
    rng = np.random.default_rng(9)
    hr = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    sr = hr.copy()
    sr[:4, :, :] = 0  # only the 4-px border differs
    metric = create_metric("gsm")
    assert metric.needs_reference
    assert metric.compute(EvalImage(sr), EvalImage(hr), EvalContext.make(4, crop_border=4)) == pytest.approx(1.0)
    assert metric.compute(EvalImage(sr), EvalImage(hr), EvalContext.make(4, crop_border=0)) < 1.0


def _correlate_by_definition(img, kernel):
    kh, kw = kernel.shape
    out = np.empty((img.shape[0] - kh + 1, img.shape[1] - kw + 1))
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[r, c] = float(np.sum(img[r:r + kh, c:c + kw] * kernel))
    return out


@pytest.mark.parametrize("shape", [(5, 5), (9, 7), (23, 31)])
def test_valid_correlation_is_the_definition(shape):
    from scipy.signal import correlate2d

    from srbench.metrics.gsm import correlate_valid

    rng = np.random.default_rng(sum(shape))
    integer = rng.integers(0, 256, shape).astype(np.float64)
    real = rng.random(shape) * 255
    for m in OPERATORS:
        # integer images (quantised Y): exact sums, equal bit for bit to scipy's and the definition
        assert np.array_equal(correlate_valid(integer, m), _correlate_by_definition(integer, m))
        assert np.array_equal(correlate_valid(integer, m), correlate2d(integer, m, mode="valid"))
        np.testing.assert_allclose(correlate_valid(real, m), _correlate_by_definition(real, m), rtol=0, atol=1e-9)


def test_metrics_do_not_import_scipy_signal():
    # scipy.signal's import alone took ~2 s, paid by every run and every worker process
    import subprocess
    import sys

    code = ("import sys, srbench.metrics as m; m.load_builtin_metrics(); import srbench.execute.remote; "
            "print('scipy.signal' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
