"""EnhanceNet-PAT adapter. The original is a TensorFlow 1 checkpoint, which torch cannot read; srbench
loads its format conversion (HWIO -> OIHW, same values) when present, otherwise it reads the verified
original itself (`tf_checkpoint.py`). Licence CC BY-NC-ND 4.0: non-commercial only."""
from __future__ import annotations

from srbench.methods import register_method
from srbench.methods.base import PUBLISHED
from srbench.methods.pretrained import PretrainedMethod, converted_weights

from .arch import ENHANCENET_ARCH
from .tf_checkpoint import enhancenet_state_from_tf

WEIGHTS = converted_weights(
    "msmsajjadi/EnhanceNet-Code", "a7309caf804ea1b10c1f973a6da9fc68658cbc47", "weights",
    original_sha256="4250b3dc5e69c5bd625e90543fd588ce2fff88510f874f9e9394c48c44b96434",
    shared_subpath="weights/enhancenet/enhancenet_pat_x4.state_dict.pth",
    sha256="7d7d9d3f5f6c3b0fc9590a68ee3c2fc0424d632cc55b0a5f66c5408712b8f09e",
    original_subpath="weights/enhancenet/weights", convert=enhancenet_state_from_tf,
    licence="CC BY-NC-ND 4.0 (non-commercial use only; attribution required)")


@register_method("enhancenet")
class EnhanceNetMethod(PretrainedMethod):
    name = "enhancenet"
    provenance = PUBLISHED
    description = "EnhanceNet-PAT x4 (perceptual + adversarial + texture loss); RGB, LR input; CC BY-NC-ND 4.0"
    arch = ENHANCENET_ARCH
    weights = {4: WEIGHTS}
