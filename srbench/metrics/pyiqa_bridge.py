"""Optional interop: `pyiqa:<name>` evaluates any pyiqa metric by name when pyiqa is importable.

pyiqa is not a dependency of srbench (and carries its own licence terms); without it these metrics
raise `Unavailable` and the run goes on. Images are handed over as pyiqa expects them: RGB float
tensors in [0, 1], shape (1, 3, H, W), no border crop (pyiqa metrics apply their own defaults).
"""
from __future__ import annotations

import numpy as np

from ..errors import Unavailable, UserError
from . import create_metric
from .base import EvalContext, EvalImage, Metric

PREFIX = "pyiqa:"


def _import_pyiqa():
    try:
        import pyiqa  # noqa: F401  (optional)
    except Exception as exc:  # ImportError, or a broken install raising something else
        raise Unavailable(f"pyiqa is not importable here ({type(exc).__name__}: {exc}); "
                          "install it in the environment to use pyiqa:<name> metrics") from exc
    return pyiqa


class PyiqaMetric(Metric):
    """One pyiqa metric behind srbench's Metric interface."""

    version = "pyiqa"
    transient = ("_metric",)  # a torch network: each worker creates its own

    def __init__(self, pyiqa_name: str):
        if not pyiqa_name:
            raise UserError("empty pyiqa metric name (use pyiqa:<name>, e.g. pyiqa:niqe)")
        self.pyiqa_name = pyiqa_name
        self.name = PREFIX + pyiqa_name
        self.description = f"pyiqa metric '{pyiqa_name}' (optional; needs pyiqa installed)"
        self._metric = None

    def prepare(self) -> None:
        if self._metric is not None:
            return
        pyiqa = _import_pyiqa()
        try:
            self._metric = pyiqa.create_metric(self.pyiqa_name, device="cpu")
        except Exception as exc:
            raise Unavailable(f"pyiqa cannot create metric '{self.pyiqa_name}': {exc}") from exc
        self.higher_is_better = not bool(getattr(self._metric, "lower_better", False))
        self.needs_reference = getattr(self._metric, "metric_mode", "NR") == "FR"

    @staticmethod
    def _tensor(img: EvalImage):
        import torch

        rgb = np.ascontiguousarray(img.rgb.transpose(2, 0, 1), dtype=np.float32) / 255.0
        return torch.from_numpy(rgb)[None]

    def compute(self, sr: EvalImage, hr: EvalImage | None, ctx: EvalContext) -> float:
        self.prepare()
        import torch

        with torch.no_grad():
            if self.needs_reference:
                if hr is None:
                    raise UserError(f"{self.name} needs a reference image")
                value = self._metric(self._tensor(sr), self._tensor(hr))
            else:
                value = self._metric(self._tensor(sr))
        return float(np.asarray(value.detach().cpu() if hasattr(value, "detach") else value).ravel()[0])


def known_pyiqa_names() -> list[str] | None:
    """The metric names the installed pyiqa offers, or None when pyiqa is not importable here."""
    try:
        pyiqa = _import_pyiqa()
    except Unavailable:
        return None
    lister = getattr(pyiqa, "list_models", None)
    if lister is None:
        return None
    try:
        return sorted(str(n) for n in lister())
    except Exception:  # noqa: BLE001 - a broken pyiqa cannot tell: the name is checked by create_metric later
        return None


def check_pyiqa_name(name: str) -> None:
    """UserError (exit 2, before any work) for a `pyiqa:<name>` that the installed pyiqa does not know."""
    if not name.startswith(PREFIX):
        raise UserError(f"'{name}' is not a pyiqa metric name (expected {PREFIX}<name>)")
    short = name[len(PREFIX):]
    if not short:
        raise UserError("empty pyiqa metric name (use pyiqa:<name>, e.g. pyiqa:niqe)")
    known = known_pyiqa_names()
    if known is not None and short not in known:
        import difflib

        close = difflib.get_close_matches(short, known, n=1)
        hint = f" (did you mean '{PREFIX}{close[0]}'?)" if close else ""
        raise UserError(f"unknown pyiqa metric '{short}'{hint}; see pyiqa.list_models() for the names")


def create_pyiqa_metric(name: str) -> PyiqaMetric:
    """`pyiqa:<name>` -> the bridged metric (its `prepare` raises Unavailable without pyiqa); a name the
    installed pyiqa does not know is a UserError."""
    check_pyiqa_name(name)
    return PyiqaMetric(name[len(PREFIX):])


def make_metric(name: str) -> Metric:
    """`create_metric` that also understands `pyiqa:<name>`."""
    return create_pyiqa_metric(name) if name.startswith(PREFIX) else create_metric(name)
