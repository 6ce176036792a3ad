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
