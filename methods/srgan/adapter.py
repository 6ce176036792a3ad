"""`srgan`: the SRGAN generator (SRResNet architecture) fine-tuned adversarially by srbench."""
from __future__ import annotations

from pathlib import Path

from srbench.methods import register_method
from srbench.methods.base import SURROGATE
from srbench.train.trained import trained_weights
from srbench_methods.srresnet.adapter import SRResNetFamily

WEIGHTS = trained_weights("srgan_x4_srbench.pth", "b8fe72b7c0e6b159ca09f14f5d7e2f763fcdf7aa3b78d768e09cccb049bd73b2", "srgan")


@register_method("srgan")
class SRGANMethod(SRResNetFamily):
    name = "srgan"
    description = "SRGAN (Ledig et al. 2017) generator, GAN-fine-tuned by srbench from srresnet (see MODEL_CARD)"
    weights_file = WEIGHTS
    folder = Path(__file__).parent
    provenance = SURROGATE
