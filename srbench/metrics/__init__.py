"""Metrics registry. Each module below registers its metrics on import."""
from __future__ import annotations

import importlib

from ..registry import Registry
from .base import EvalContext, EvalImage, Metric

METRICS: Registry[Metric] = Registry("metric")

# Modules that define metrics; add new metric modules here.
_METRIC_MODULES = ["fidelity", "niqe", "ma", "perceptual_index", "gsm", "pyiqa_bridge"]
_loaded = False


def register_metric(name: str):
    return METRICS.register(name)


def load_builtin_metrics() -> Registry[Metric]:
    global _loaded
    if not _loaded:
        for module in _METRIC_MODULES:
            importlib.import_module(f"{__name__}.{module}")
        _loaded = True
    return METRICS


def create_metric(name: str) -> Metric:
    """Metric by registered name (as pyiqa.create_metric)."""
    return load_builtin_metrics().create(name)


__all__ = ["METRICS", "EvalContext", "EvalImage", "Metric", "create_metric", "load_builtin_metrics",
           "register_metric"]
