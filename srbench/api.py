"""The Python API, for notebooks and scripts: the same runner, metrics and methods as the CLI.

    import srbench
    result = srbench.run(methods="bicubic,srresnet", datasets="default", scale=4)
    result.summary          # pandas DataFrame, as summary.csv
    result.per_image        # pandas DataFrame, as per_image.csv
    psnr = srbench.create_metric("psnr_y", scale=4)
    psnr(sr, hr)            # float, as the runner's per-image value
    niqe = srbench.create_metric("niqe")
    niqe(sr)                # no-reference metrics take one image
    model = srbench.create_method("srresnet")
    sr = model(lr)          # uint8 HxWx3 in, uint8 (scale*H)x(scale*W)x3 out

`srbench run` is a thin layer over `run` (it adds the printed table and the closing lines); `create_metric`
and `create_method` build exactly what the runner builds, so a value computed here equals the run's.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from .errors import UserError

ImageLike = np.ndarray | str | os.PathLike


def _names(value: str | Iterable[str]) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def _scales(value: int | str | Iterable[int | str]) -> list[int]:
    from .runner import parse_scale

    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return [int(value)]
    items = _names(value) if isinstance(value, str) else list(value)
    return [parse_scale(str(v)) for v in items]


# ------------------------------------------------------------------ run

@dataclass
class RunTables:
    """What `run` returns: the tables as DataFrames and where the run folder is."""

    out: Path
    per_image: pd.DataFrame
    summary: pd.DataFrame
    errors: pd.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)  # method -> reason
    metrics_unavailable: dict[str, str] = field(default_factory=dict)  # metric -> reason
    report: Path | None = None

    @property
    def exit_code(self) -> int:
        return 1 if len(self.errors) else 0


def run(methods: str | Iterable[str] = "all", datasets: str | Iterable[str] = "default",
        scale: int | str | Iterable[int] = 4, *, out: str | os.PathLike = "runs/latest", report: bool = False,
        progress: bool = False, **options) -> RunTables:
    """Benchmark `methods` x `datasets` x `scale` (names as comma-separated strings or lists, as the CLI's
    options); `options` are the other `RunConfig` fields: degradation, metrics, protocol, crop_border,
    data_root, device ('auto'), tile, arch, use_cache, save_sr. `report=True` also writes the HTML report.
    Bad input raises `srbench.errors.UserError` (the CLI's exit 2); failed items are in `.errors`."""
    from .runner import RunConfig, run as run_benchmark

    if "metrics" in options and isinstance(options["metrics"], str):
        options["metrics"] = _names(options["metrics"])
    config = RunConfig(methods=_names(methods), datasets=_names(datasets), scales=_scales(scale), out=str(out),
                       progress=progress, report=report, **options)
    result = run_benchmark(config)
    report_path = None
    if report:
        from .report import generate_report

        report_path = Path(generate_report(result.out))
    return RunTables(out=Path(result.out), per_image=result.per_image, summary=result.summary,
                     errors=pd.DataFrame(result.errors, columns=["method", "dataset", "scale", "image", "error"]),
                     skipped=dict(result.skipped), metrics_unavailable=dict(getattr(result, "metrics_unavailable", {})),
                     report=report_path)


# ------------------------------------------------------------------ metrics

def _pixels(image: ImageLike, what: str) -> np.ndarray:
    from .imageio import read_image

    if isinstance(image, (str, os.PathLike)):
        return read_image(image)
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise UserError(f"{what}: expected a uint8 image (HxWx3 RGB or HxW grey), got dtype {arr.dtype}; "
                        "srbench's metrics are defined on 8-bit pixels, as MATLAB's scripts read them")
    if arr.ndim == 3 and arr.shape[2] == 4:
        raise UserError(f"{what}: RGBA image; drop the alpha channel first")
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3)):
        raise UserError(f"{what}: image has shape {arr.shape}, expected HxWx3 or HxW")
    return arr if arr.ndim == 3 else arr[:, :, None]


class MetricFunction:
    """A metric bound to a scale and protocol: `metric(sr, hr)` (full-reference) or `metric(sr)`
    (no-reference) -> float. Images are uint8 numpy arrays (HxWx3 RGB or HxW grey) or image file paths."""

    def __init__(self, metric, ctx):
        self.metric, self.ctx = metric, ctx
        self.name = metric.name
        self.higher_is_better = metric.higher_is_better
        self.needs_reference = metric.needs_reference

    def __call__(self, sr: ImageLike, hr: ImageLike | None = None) -> float:
        from . import matlab
        from .metrics import EvalImage

        sr_px = _pixels(sr, "sr")
        hr_img = None
        if self.needs_reference:
            if hr is None:
                raise UserError(f"metric {self.name} compares with a reference: call it as metric(sr, hr)")
            hr_px = _pixels(hr, "hr")
            if hr_px.shape[:2] != sr_px.shape[:2]:
                cropped = matlab.modcrop(hr_px, self.ctx.scale)  # as `srbench score`: HR modcropped to the scale
                if cropped.shape[:2] != sr_px.shape[:2]:
                    raise UserError(f"metric {self.name}: sr is {sr_px.shape[1]}x{sr_px.shape[0]}, hr is "
                                    f"{hr_px.shape[1]}x{hr_px.shape[0]} (modcropped to x{self.ctx.scale}: "
                                    f"{cropped.shape[1]}x{cropped.shape[0]})")
                hr_px = cropped
            hr_img = EvalImage(hr_px, quantized_y=self.ctx.protocol.quantized_y)
        sr_img = EvalImage(sr_px, quantized_y=self.ctx.protocol.quantized_y)
        return float(self.metric.compute(sr_img, hr_img, self.ctx))

    def aggregate(self, values) -> float:
        """The dataset-level value of per-image values (mean, or sqrt(mean MSE) for rmse), as summary.csv."""
        return self.metric.aggregate(np.asarray(values, dtype=np.float64))

    def __repr__(self) -> str:
        return (f"<srbench metric {self.name} x{self.ctx.scale} protocol={self.ctx.protocol.name} "
                f"crop={self.ctx.crop_border}>")


def create_metric(name: str, scale: int = 4, protocol: str = "matlab",
                  crop_border: int | None = None) -> MetricFunction:
    """A metric by name (`srbench list metrics`, or `pyiqa:<name>`), as pyiqa.create_metric. `scale` and
    `protocol` set the border crop as in `srbench run` (matlab: crop = scale); `Unavailable` is raised when
    its model file cannot be found."""
    from .metrics import EvalContext, load_builtin_metrics

    if name.startswith("pyiqa:"):
        from .metrics.pyiqa_bridge import create_pyiqa_metric

        metric = create_pyiqa_metric(name)
    else:
        metric = load_builtin_metrics().create(name)
    metric.prepare()
    return MetricFunction(metric, EvalContext.make(_scales(scale)[0], protocol, crop_border))


def list_metrics() -> list[str]:
    from .metrics import load_builtin_metrics

    return load_builtin_metrics().names()


# ------------------------------------------------------------------ methods

class Model:
    """A method ready to super-resolve: `model(lr)` -> uint8 SR pixels (the shape of `lr`, times the
    scale); `model.super_resolve(lr, scale)` gives the full `SROutput` (with a Y-only network's own Y)."""

    def __init__(self, method, scale: int | None):
        self.method = method
        self.name = method.name
        self.scales = tuple(method.scales)
        self.scale = scale

    def _scale(self, scale: int | None) -> int:
        scale = scale or self.scale
        if scale is None:
            if len(self.scales) != 1:
                raise UserError(f"{self.name} supports {', '.join(f'x{s}' for s in self.scales)}: "
                                "give scale=")
            scale = self.scales[0]
        self.method.check_scale(scale)
        return scale

    def super_resolve(self, lr: ImageLike, scale: int | None = None):
        return self.method.super_resolve(_pixels(lr, "lr"), self._scale(scale))

    def __call__(self, lr: ImageLike, scale: int | None = None) -> np.ndarray:
        gray_in = not isinstance(lr, (str, os.PathLike)) and np.asarray(lr).ndim == 2
        pixels = self.super_resolve(lr, scale).pixels
        return pixels[:, :, 0] if gray_in and pixels.shape[2] == 1 else pixels

    def identity(self, scale: int | None = None) -> str:
        """Name, scale and weights sha256: what the run records in run.json and keys its cache with."""
        return self.method.identity(self._scale(scale))

    def __repr__(self) -> str:
        return f"<srbench method {self.name} scales={list(self.scales)} device={self.method.device}>"


def create_method(name: str, scale: int | None = None, *, device: str = "auto", tile: int | None = None,
                  arch: str | None = None, **kwargs) -> Model:
    """A method by name (`srbench list methods`, or `torch:PATH` with `arch`), as timm.create_model.
    The weights are loaded on first use; `Unavailable` is raised then when they cannot be found."""
    from .devices import resolve_device
    from .methods import discover_methods

    device = resolve_device(device)
    if name.startswith("torch:"):
        from .methods.generic import create_generic_method

        method = create_generic_method(name, arch, device=device, tile=tile, **kwargs)
    else:
        method = discover_methods().create(name, device=device, tile=tile, **kwargs)
    model = Model(method, scale)
    if scale is not None:
        model._scale(scale)
    return model


def list_methods() -> list[str]:
    from .methods import discover_methods

    return discover_methods().names()


__all__ = ["MetricFunction", "Model", "RunTables", "create_method", "create_metric", "list_methods", "list_metrics",
           "run"]
