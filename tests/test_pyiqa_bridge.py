"""`pyiqa:<name>` metrics: optional, never a hard dependency."""
import importlib.util

import pytest

from srbench.errors import Unavailable, UserError
from srbench.metrics.pyiqa_bridge import PyiqaMetric, create_pyiqa_metric, make_metric


def test_names_and_fallback_to_registered_metrics():
    metric = create_pyiqa_metric("pyiqa:niqe")
    assert isinstance(metric, PyiqaMetric) and metric.name == "pyiqa:niqe" and metric.pyiqa_name == "niqe"
    assert make_metric("psnr_y").name == "psnr_y"
    with pytest.raises(UserError):
        create_pyiqa_metric("niqe")
    with pytest.raises(UserError):
        create_pyiqa_metric("pyiqa:")


@pytest.mark.skipif(importlib.util.find_spec("pyiqa") is not None, reason="pyiqa is installed here")
def test_unavailable_without_pyiqa():
    with pytest.raises(Unavailable, match="pyiqa is not importable"):
        create_pyiqa_metric("pyiqa:niqe").prepare()
