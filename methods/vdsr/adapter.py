"""VDSR adapter. The original file is a whole-model pickle that would need the repository's classes to
unpickle, so srbench loads the plain state_dict converted from it (same keys and values)."""
from __future__ import annotations

from srbench.assets import Asset
from srbench.methods import register_method
from srbench.methods.pretrained import PretrainedMethod, WeightsFile, github_raw

from .arch import VDSR_ARCH

_REPO, _COMMIT, _PATH = "twtygqyy/pytorch-vdsr", "514b021044018baf909e79f48392783daa592888", "model/model_epoch_50.pth"

WEIGHTS = WeightsFile(
    asset=Asset(name="vdsr.state_dict.pth", kind="weights",
                sha256="155005cb1edbf7f9127b2ae57a07a3526948a97f398857c1afeb7c545f5a5f0b",
                shared_subpath="weights/vdsr/vdsr.state_dict.pth"),
    licence="MIT (twtygqyy/pytorch-vdsr)",
    source=f"{_REPO}@{_COMMIT}:{_PATH}",
    original_url=github_raw(_REPO, _COMMIT, _PATH),
    original_sha256="eab4d79ae5a6e5acef4c55e46015aed225ade207679bcb6695b07af8fb18e876")


@register_method("vdsr")
class VDSRMethod(PretrainedMethod):
    name = "vdsr"
    description = "VDSR (twtygqyy PyTorch, 291 images); Y channel, bicubic-upsampled input"
    arch = VDSR_ARCH
    weights = {2: WEIGHTS, 3: WEIGHTS, 4: WEIGHTS}
