"""Perceptual index of PIRM-2018 (Blau et al.): PI = ((10 - Ma) + NIQE) / 2, lower is better.

Both terms are computed as PIRM's `calc_scores.m` does: on the Y channel of the uint8 `rgb2ycbcr`
with a 4-px shave (`convert_shave_image.m`). `evaluate_results.m` reports the dataset value as
(mean NIQE + (10 - mean Ma)) / 2; since PI is linear in both terms that equals the mean of the
per-image PI values, so `aggregate` stays the plain mean.

`niqe_pirm`, `ma_pirm` and `pi` of the same image share one computation through a small cache keyed
by the image content, so asking for all three costs one NIQE and one Ma evaluation.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from . import register_metric
from .base import EvalContext, EvalImage, Metric, model_digest

_CACHE_SIZE = 8


@dataclass
class PirmScores:
    niqe: float
    ma: float | None
    models: tuple = ()  # the model objects the values came from (a changed model invalidates them)


_cache: "OrderedDict[str, PirmScores]" = OrderedDict()


def _key(img: EvalImage) -> str:
    h = hashlib.sha1(img.pixels.tobytes())
    h.update(repr(img.pixels.shape).encode())
    return h.hexdigest()


def pirm_scores(img: EvalImage, need_ma: bool = True) -> PirmScores:
    """NIQE and (if `need_ma`) Ma of one image under the PIRM protocol, memoised per image content.

    Raises `Unavailable` when Ma is needed and its model cannot be resolved.
    """
    from .ma import ma_score, resolve_ma_model
    from .niqe import niqe, pirm_y, resolve_niqe_model

    key = _key(img)
    niqe_model = resolve_niqe_model()
    scores = _cache.get(key)
    if scores is None or not scores.models or scores.models[0] is not niqe_model:
        scores = PirmScores(niqe=niqe(pirm_y(img), niqe_model), ma=None, models=(niqe_model,))
    if need_ma:
        ma_model = resolve_ma_model()
        if scores.ma is None or len(scores.models) < 2 or scores.models[1] is not ma_model:
            scores.ma = ma_score(pirm_y(img), ma_model)
            scores.models = (niqe_model, ma_model)
    _cache[key] = scores
    _cache.move_to_end(key)
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return scores


def perceptual_index(ma: float, niqe: float) -> float:
    return ((10.0 - ma) + niqe) / 2.0


@register_metric("pi")
class PerceptualIndex(Metric):
    name = "pi"
    higher_is_better = False
    needs_reference = False
    version = "1"
    description = "PIRM-2018 perceptual index ((10 - Ma) + NIQE)/2 on Y, 4-px shave (lower is better)"

    def prepare(self) -> None:
        from .ma import resolve_ma_model
        from .niqe import resolve_niqe_model

        resolve_ma_model()  # Unavailable without Ma's model: PI is not defined without it
        resolve_niqe_model()

    def identity(self) -> str:
        from .ma import resolve_ma_model
        from .niqe import resolve_niqe_model

        return (f"{super().identity()}+niqe:{model_digest(resolve_niqe_model())}"
                f"+ma:{model_digest(resolve_ma_model())}")

    def compute(self, sr: EvalImage, hr: EvalImage | None, ctx: EvalContext) -> float:
        s = pirm_scores(sr, need_ma=True)
        return perceptual_index(s.ma, s.niqe)

    def aggregate(self, values: np.ndarray) -> float:
        # (mean NIQE + 10 - mean Ma) / 2 == mean of per-image PI (linear), as evaluate_results.m.
        return super().aggregate(values)
