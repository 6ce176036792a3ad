"""PIRM-2018 perceptual index: definition, dataset aggregation, shared computation, availability."""
import numpy as np
import pytest

from srbench.errors import Unavailable
from srbench.metrics import EvalContext, EvalImage, create_metric
from srbench.metrics import ma as M
from srbench.metrics import niqe as N
from srbench.metrics import perceptual_index as P
from matlab_reference import y_by_hand
from tests.ma_model_fixture import hide_ma_model, ma_by_hand, write_model


def _rgb(seed, shape=(204, 110)):
    rng = np.random.default_rng(seed)
    from scipy.ndimage import gaussian_filter

    img = gaussian_filter(rng.standard_normal(shape + (3,)), (3, 3, 0)) * 300 + 120
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


@pytest.fixture
def synthetic_ma(tmp_path, monkeypatch, niqe_model_file):  # PI and NIQE-PIRM need the NIQE model
    path = tmp_path / "model.mat"
    write_model(path, seed=11)
    monkeypatch.setenv("SRBENCH_MA_MODEL", str(path))
    P._cache.clear()
    return M.load_ma_model(str(path))


def test_pi_is_the_pirm_combination_of_ma_and_niqe_on_shaved_y(synthetic_ma, tmp_path):
    synthetic_ma_path = tmp_path / "model.mat"
    img = EvalImage(_rgb(1))
    ctx = EvalContext.make(4)
    values = {}
    for name in ("pi", "ma_pirm", "niqe_pirm"):
        metric = create_metric(name)
        metric.prepare()
        values[name] = metric.compute(img, None, ctx)
    # PIRM convert_shave_image.m by hand: Y of the uint8 rgb2ycbcr (rounded), 4 pixels shaved on each side
    y = y_by_hand(img.pixels, quantize=True)[4:-4, 4:-4].astype(np.uint8)
    assert y.shape == (196, 102)
    np.testing.assert_array_equal(N.pirm_y(img), y)
    forests = write_model(synthetic_ma_path.parent / "same.mat", seed=11)  # the fixture's forests (same seed)
    ma = ma_by_hand(forests, (1.0, 0.5, 0.3, 0.2), M.ma_features(y))
    niqe = N.niqe(y, N.niqe_model())
    assert values["ma_pirm"] == pytest.approx(ma, rel=1e-12)
    assert values["niqe_pirm"] == pytest.approx(niqe, abs=1e-12)
    assert values["pi"] == pytest.approx(((10 - ma) + niqe) / 2, rel=1e-12)


def test_pirm_terms_are_computed_once_per_image(synthetic_ma, monkeypatch):
    calls = []
    real = M.ma_score
    monkeypatch.setattr(M, "ma_score", lambda *a, **k: calls.append(1) or real(*a, **k))
    img, ctx = EvalImage(_rgb(2)), EvalContext.make(4)
    for name in ("ma_pirm", "pi", "niqe_pirm", "pi"):
        create_metric(name).compute(img, None, ctx)
    assert len(calls) == 1
    create_metric("pi").compute(EvalImage(_rgb(3)), None, ctx)  # another image: computed again
    assert len(calls) == 2


def test_dataset_pi_equals_evaluate_results_formula():
    rng = np.random.default_rng(4)
    ma, niqe = rng.uniform(2, 9, 17), rng.uniform(2, 12, 17)
    per_image = [P.perceptual_index(a, b) for a, b in zip(ma, niqe)]
    evaluate_results = (np.mean(niqe) + (10 - np.mean(ma))) / 2
    assert create_metric("pi").aggregate(np.array(per_image)) == pytest.approx(evaluate_results, rel=1e-14)
    assert not create_metric("pi").higher_is_better and not create_metric("pi").needs_reference


def test_pi_is_unavailable_without_ma_model(tmp_path, monkeypatch):
    hide_ma_model(monkeypatch, tmp_path)
    with pytest.raises(Unavailable, match="Ma et al. model"):
        create_metric("pi").prepare()


def test_ma_and_pi_match_matlab_when_the_trained_model_resolves(shared):
    """Active once Ma's model.mat is available (SRBENCH_MA_MODEL or $SRBENCH_SHARED/iqa-params/ma_model.mat).

    Ma (`nrqm` row: quality_predict on rgb2gray) is deterministic, so 1e-3; PI (`pi` row, PIRM protocol)
    carries half of NIQE's documented zero-residue noise on I03/I08/I19 (see tests/test_niqe.py).
    """
    from srbench.errors import AssetError
    from srbench.iqa_assets import MA_MODEL, ma_model_explicit_path

    try:  # local copies only: the test must not depend on the network
        MA_MODEL.resolve(ma_model_explicit_path(), allow_download=False)
    except AssetError:
        # "NOT CHECKED: " makes conftest repeat the reason at the end of the run (visible in CI output)
        pytest.skip("NOT CHECKED: Ma/PI MATLAB parity: model not obtainable here "
                    "(SRBENCH_MA_MODEL / $SRBENCH_SHARED/iqa-params/ma_model.mat)")
    from tests.test_niqe import CALIBRATION, TOLERANCE, _calibration, _matlab_rows

    rows = _matlab_rows(shared)
    ctx = EvalContext.make(4)
    ma, pi = create_metric("ma"), create_metric("pi")
    for name in CALIBRATION:
        img = EvalImage(_calibration(shared, name))
        assert abs(ma.compute(img, None, ctx) - rows["nrqm"][name]) <= 1e-3, name
        assert abs(pi.compute(img, None, ctx) - rows["pi"][name]) <= 1e-3 + TOLERANCE[name] / 2, name


def test_cached_ma_is_recomputed_when_the_model_changes(synthetic_ma, tmp_path, monkeypatch):
    img, ctx = EvalImage(_rgb(5)), EvalContext.make(4)
    first = create_metric("ma_pirm").compute(img, None, ctx)
    other = tmp_path / "other.mat"
    write_model(other, seed=12, linear=(3.0, 0.1, 0.1, 0.1))
    monkeypatch.setenv("SRBENCH_MA_MODEL", str(other))
    second = create_metric("ma_pirm").compute(img, None, ctx)
    assert second == pytest.approx(M.ma_score(N.pirm_y(img), M.load_ma_model(str(other))))
    assert second != first
