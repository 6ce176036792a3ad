"""VDSR adapter. The original file is a whole-model pickle that would need the repository's classes to
unpickle. srbench loads the plain state_dict converted from it (same keys and values) when present;
otherwise it reads the verified original with its allow-list reader (`legacy_pickle`), which runs no code
from the file."""
from __future__ import annotations

from srbench.methods import register_method
from srbench.methods.base import PUBLISHED
from srbench.methods.legacy_pickle import state_dict_from_legacy_model
from srbench.methods.pretrained import PretrainedMethod, converted_weights

from .arch import VDSR_ARCH

WEIGHTS = converted_weights(
    "twtygqyy/pytorch-vdsr", "514b021044018baf909e79f48392783daa592888", "model/model_epoch_50.pth",
    original_sha256="eab4d79ae5a6e5acef4c55e46015aed225ade207679bcb6695b07af8fb18e876",
    shared_subpath="weights/vdsr/vdsr.state_dict.pth",
    sha256="155005cb1edbf7f9127b2ae57a07a3526948a97f398857c1afeb7c545f5a5f0b",
    original_subpath="weights/vdsr/model_epoch_50.pth", convert=state_dict_from_legacy_model,
    licence="MIT (twtygqyy/pytorch-vdsr)")


@register_method("vdsr")
class VDSRMethod(PretrainedMethod):
    name = "vdsr"
    provenance = PUBLISHED
    description = "VDSR (twtygqyy PyTorch, 291 images); Y channel, bicubic-upsampled input"
    arch = VDSR_ARCH
    weights = {2: WEIGHTS, 3: WEIGHTS, 4: WEIGHTS}
