"""Metric interface and the image wrapper metrics see."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import math

import numpy as np

from .. import matlab
from ..errors import SrbenchError
from ..protocols import Protocol, get_protocol


class MetricError(SrbenchError):
    """One metric cannot give a value for one image (a precondition such as a minimum size fails, or the
    value would not be a finite number). Only that metric of that image fails; the others are kept."""


class EvalImage:
    """A uint8 image (HxWx3 RGB or HxWx1 grayscale) plus, optionally, a method's native Y plane.

    Grayscale images are their own luminance, as the MATLAB evaluation scripts treat them
    (`if size(im,3)==1, Y = im`), so `y` returns the grey values unchanged for them.
    """

    def __init__(self, pixels: np.ndarray, native_y: np.ndarray | None = None, quantized_y: bool = True):
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        if pixels.dtype != np.uint8:
            raise TypeError("EvalImage expects uint8 pixels")
        self.pixels = pixels
        self.native_y = native_y
        self.quantized_y = quantized_y

    @property
    def is_gray(self) -> bool:
        return self.pixels.shape[2] == 1

    @property
    def shape(self) -> tuple[int, int]:
        return self.pixels.shape[:2]

    @cached_property
    def y(self) -> np.ndarray:
        """Luminance as float64 in [0, 255]."""
        if self.native_y is not None:
            return np.asarray(self.native_y, dtype=np.float64)
        if self.is_gray:
            return self.pixels[:, :, 0].astype(np.float64)
        return matlab.rgb2y(self.pixels, quantize=self.quantized_y)

    @cached_property
    def rgb(self) -> np.ndarray:
        """uint8 HxWx3 (grayscale replicated)."""
        return np.repeat(self.pixels, 3, axis=2) if self.is_gray else self.pixels

    @cached_property
    def gray(self) -> np.ndarray:
        """MATLAB rgb2gray as uint8 HxW (grayscale images unchanged)."""
        return self.pixels[:, :, 0] if self.is_gray else matlab.rgb2gray(self.pixels)


@dataclass
class EvalContext:
    scale: int
    crop_border: int
    protocol: Protocol

    @classmethod
    def make(cls, scale: int, protocol: str = "matlab", crop_border: int | None = None) -> "EvalContext":
        proto = get_protocol(protocol)
        return cls(scale=scale, crop_border=proto.crop_border(scale, crop_border), protocol=proto)


class Metric:
    """One image-quality measure.

    `compute` returns the per-image value; `aggregate` turns the per-image values of a dataset into the
    dataset-level value (a plain mean unless the metric's definition says otherwise).
    `prepare` resolves model files and raises `Unavailable` with a reason when it cannot.

    What `prepare` loads (the attributes named in `transient`) does not travel when a metric is pickled to
    a worker: the worker resolves its own copy, and its `identity`, which digests the model, must equal the
    client's for its values to be used (see `srbench.evaluate.compute_task`). Pickling a 166 MB Ma model
    into every task was what made `--jobs` slower than serial.
    """

    transient: tuple[str, ...] = ()

    name: str = ""
    higher_is_better: bool = True
    needs_reference: bool = True
    version: str = "1"
    description: str = ""

    def prepare(self) -> None:
        return None

    def compute(self, sr: EvalImage, hr: EvalImage | None, ctx: EvalContext) -> float:
        raise NotImplementedError

    def aggregate(self, values: np.ndarray) -> float:
        values = np.asarray(values, dtype=np.float64)
        return float(np.mean(values)) if values.size else float("nan")

    def identity(self) -> str:
        """What the cache keys this metric's values by: name, version and (for metrics with a model file)
        the model's content, so a changed model never reuses values computed with another."""
        return f"{self.name}@{self.version}"

    def __getstate__(self):
        state = dict(self.__dict__)
        for name in self.transient:
            if name in state:
                state[name] = None
        return state


_digests: dict[int, tuple[object, str]] = {}  # id(model) -> (model, digest); the model is kept alive


def model_digest(model) -> str:
    """sha256 (16 hex digits) of a loaded model's numbers: numpy arrays, and dataclasses, tuples and lists
    of them, in order. Computed once per model object (models are loaded once per process)."""
    import dataclasses
    import hashlib

    known = _digests.get(id(model))
    if known is not None and known[0] is model:
        return known[1]
    h = hashlib.sha256()

    def feed(obj) -> None:
        if obj is None:
            h.update(b"none")
        elif isinstance(obj, np.ndarray):
            h.update(f"{obj.dtype.str}{obj.shape}".encode())
            h.update(np.asfortranarray(obj).T.data)  # column-major as MATLAB stores them: no copy of a model
        elif dataclasses.is_dataclass(obj):
            for f in dataclasses.fields(obj):
                feed(getattr(obj, f.name))
        elif isinstance(obj, (tuple, list)):
            h.update(f"seq{len(obj)}".encode())
            for part in obj:
                feed(part)
        else:
            h.update(repr(obj).encode())

    feed(model)
    digest = h.hexdigest()[:16]
    _digests[id(model)] = (model, digest)
    return digest


def evaluate_metric(metric: Metric, sr: EvalImage, hr: EvalImage | None, ctx: EvalContext) -> float:
    """`metric.compute` as a finite float; MetricError (naming the metric) for a non-finite value.

    A metric's definition never makes an infinite or NaN value a score (PSNR of identical images, SSIM of
    an image smaller than its window, NIQE's NaN propagation): such a value would become the dataset mean
    of every method, so it is a per-image failure of that metric instead.
    """
    value = float(metric.compute(sr, hr if metric.needs_reference else None, ctx))
    if not math.isfinite(value):
        raise MetricError(f"{metric.name} is {value} for this image (not a finite score)")
    return value


def evaluate_metrics(metrics: list[Metric], sr: EvalImage, hr: EvalImage | None,
                     ctx: EvalContext) -> tuple[dict[str, float], dict[str, str]]:
    """(values, failures): every metric of one image, each failing alone with a one-line reason.

    Used by both `srbench run` and `srbench score`, so the two behave the same. Any Exception of a metric
    is its own failure; KeyboardInterrupt and other BaseExceptions propagate.
    """
    from ..errors import one_line

    values: dict[str, float] = {}
    failures: dict[str, str] = {}
    for metric in metrics:
        try:
            values[metric.name] = evaluate_metric(metric, sr, hr, ctx)
        except Exception as exc:  # noqa: BLE001 - one metric's failure must not cost the others
            reason = one_line(exc)
            failures[metric.name] = reason if reason.startswith(metric.name) else f"{metric.name}: {reason}"
    return values, failures


def finite_aggregate(metric: Metric, values) -> tuple[float, int]:
    """(dataset value over the finite per-image values, how many there were); NaN when there are none."""
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return (metric.aggregate(arr) if arr.size else float("nan")), int(arr.size)
