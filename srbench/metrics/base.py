"""Metric interface and the image wrapper metrics see."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .. import matlab
from ..protocols import Protocol, get_protocol


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
    """

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
        return f"{self.name}@{self.version}"
