"""LapSRN adapter. The original is a whole-model pickle; srbench loads the state_dict converted from it
when present, otherwise the verified original through the allow-list reader `legacy_pickle`."""
from __future__ import annotations

from srbench.methods import register_method
from srbench.methods.base import PUBLISHED
from srbench.methods.legacy_pickle import state_dict_from_legacy_model
from srbench.methods.pretrained import PretrainedMethod, converted_weights

from .arch import LAPSRN_ARCH

WEIGHTS = converted_weights(
    "twtygqyy/pytorch-LapSRN", "1b7737abe6ccaef2d14b673d301edbace3414c02", "model/model_epoch_100.pth",
    original_sha256="acdd5bf5a2686bcb9e458d72ea811fb0b087adbd70225eb92aeb4793dfb8c7d0",
    shared_subpath="weights/lapsrn/lapsrn_x4.state_dict.pth",
    sha256="b79b14c11aae4b026523055ff2b7b791bccb43f9dbceccecb8fd8104730c51cc",
    original_subpath="weights/lapsrn/model_epoch_100.pth", convert=state_dict_from_legacy_model,
    licence="MIT (Copyright (c) 2017- Jiu XU)")


@register_method("lapsrn")
class LapSRNMethod(PretrainedMethod):
    name = "lapsrn"
    provenance = PUBLISHED
    description = "LapSRN x4 (twtygqyy PyTorch, T91+BSDS200); Y channel, LR input; x2 = the pyramid's first level"
    arch = LAPSRN_ARCH
    weights = {2: WEIGHTS, 4: WEIGHTS}
