"""Scoring SR images that already exist (a paper's released outputs, another tool's results) against HR.

The SR and HR inputs are two files or two folders paired by file stem. Every pair is checked before it
is scored: both images readable (see `imageio.read_image`), and the SR the size of the HR image modcropped
to the scale (what `srbench run` compares against) or of the full HR image. Any bad pair is a `UserError`
naming the files, since these are the user's own inputs.

A metric that cannot score one image (a precondition such as SSIM's 11x11 window after the crop, or a
non-finite value) fails for that image only, exactly as in `srbench run` (`metrics.base.evaluate_metrics`):
its cell is empty, the reason is reported, and the dataset value is over the images it scored.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import matlab
from .datasets import _image_files as image_files  # one rule for what counts as an image
from .errors import UserError
from .imageio import SUPPORTED_SUFFIXES, read_image
from .metrics import EvalContext, EvalImage, Metric
from .metrics.base import evaluate_metrics, finite_aggregate


@dataclass(frozen=True)
class Pair:
    name: str
    sr: Path
    hr: Path | None  # None: scored with no-reference metrics only


def unpaired_images(sr: str | Path) -> list[Pair]:
    """SR images to score without references: one file, or every image of a folder."""
    sr = Path(sr)
    if not sr.exists():
        raise UserError(f"{sr}: no such SR file or folder")
    if not sr.is_dir():
        return [Pair(sr.stem, sr, None)]
    files = image_files(sr)
    if not files:
        raise UserError(f"{sr}: no images ({', '.join(sorted(SUPPORTED_SUFFIXES))})")
    return [Pair(name, path, None) for name, path in files.items()]


def pair_images(sr: str | Path, hr: str | Path) -> tuple[list[Pair], list[Path]]:
    """(pairs, SR files without an HR image). Every HR image needs an SR image."""
    sr, hr = Path(sr), Path(hr)
    for path, what in ((sr, "SR"), (hr, "HR")):
        if not path.exists():
            raise UserError(f"{path}: no such {what} file or folder")
    if sr.is_dir() != hr.is_dir():
        raise UserError(f"{sr} and {hr}: give two image files or two folders, not one of each")
    if not sr.is_dir():
        return [Pair(hr.stem, sr, hr)], []
    hr_files, sr_files = image_files(hr), image_files(sr)
    if not hr_files:
        raise UserError(f"{hr}: no images ({', '.join(sorted(SUPPORTED_SUFFIXES))})")
    missing = [name for name in hr_files if name not in sr_files]
    if missing:
        raise UserError(f"{sr}: no SR image for {len(missing)} HR image(s) of {hr} "
                        f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''})")
    extra = [sr_files[name] for name in sr_files if name not in hr_files]
    return [Pair(name, sr_files[name], path) for name, path in hr_files.items()], extra


def reference_for(sr: np.ndarray, hr: np.ndarray, pair: Pair, scale: int) -> np.ndarray:
    """The HR pixels the SR image is compared with; UserError when the sizes do not match."""
    cropped = matlab.modcrop(hr, scale)
    if sr.shape[:2] == cropped.shape[:2]:
        return cropped
    if sr.shape[:2] == hr.shape[:2]:
        return hr
    raise UserError(f"{pair.sr}: SR size {sr.shape[1]}x{sr.shape[0]} does not match HR {pair.hr} "
                    f"({hr.shape[1]}x{hr.shape[0]}, modcropped to x{scale}: "
                    f"{cropped.shape[1]}x{cropped.shape[0]})")


def score_pairs(pairs: list[Pair], metrics: list[Metric], ctx: EvalContext,
                failures: list[tuple[Pair, str, str]] | None = None) -> pd.DataFrame:
    """Per-image values; a metric failing on one image leaves its cell NaN and, when `failures` is given,
    appends (pair, metric name, reason) to it."""
    rows = []
    for pair in pairs:
        sr = read_image(pair.sr)
        ref = sr if pair.hr is None else reference_for(sr, read_image(pair.hr), pair, ctx.scale)
        if min(ref.shape[:2]) <= 2 * ctx.crop_border:
            raise UserError(f"{pair.hr or pair.sr}: image {ref.shape[1]}x{ref.shape[0]} is too small for a "
                            f"{ctx.crop_border}-px border crop")
        sr_img = EvalImage(sr, quantized_y=ctx.protocol.quantized_y)
        hr_img = None if pair.hr is None else EvalImage(ref, quantized_y=ctx.protocol.quantized_y)
        values, failed = evaluate_metrics(metrics, sr_img, hr_img, ctx)
        rows.append({"image": pair.name, **{m.name: values.get(m.name, float("nan")) for m in metrics}})
        if failures is not None:
            failures += [(pair, m.name, failed[m.name]) for m in metrics if m.name in failed]
    return pd.DataFrame(rows, columns=["image"] + [m.name for m in metrics])


def summary_row(per_image: pd.DataFrame, metrics: list[Metric]) -> dict:
    """Dataset-level values, each by its metric's own `aggregate` (RMSE: sqrt of the mean MSE), over the
    finite per-image values only."""
    return {m.name: finite_aggregate(m, per_image[m.name].to_numpy(dtype=np.float64))[0] for m in metrics}


def summary_counts(per_image: pd.DataFrame, metrics: list[Metric]) -> dict:
    """How many per-image values each dataset value is over."""
    return {m.name: finite_aggregate(m, per_image[m.name].to_numpy(dtype=np.float64))[1] for m in metrics}
