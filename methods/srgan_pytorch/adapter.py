"""`srgan-pytorch` adapter: leftthomas/SRGAN's x4 generator (netG_epoch_4_100.pth). The names `srresnet`
and `srgan` are kept for the srbench-trained models of the SRGAN paper."""
from __future__ import annotations

from srbench.methods import register_method
from srbench.methods.base import PUBLISHED
from srbench.methods.pretrained import PretrainedMethod, github_weights

from .arch import SRGAN_LT_ARCH

WEIGHTS = github_weights(
    "leftthomas/SRGAN", "b0323c6ca4ca920f7daa41ba05f44bd220557cd9", "epochs/netG_epoch_4_100.pth",
    sha256="f4c381640826a48d2440583e4920c6bb4041804f4e285c3c6d585f03961fe87c",
    shared_subpath="weights/srgan/netG_epoch_4_100.pth", cache_name="srgan_leftthomas_netG_epoch_4_100.pth",
    licence="MIT (leftthomas/SRGAN LICENSE at HEAD; the weights commit itself has no LICENSE file)")


@register_method("srgan-pytorch")
class SRGANPyTorchMethod(PretrainedMethod):
    name = "srgan-pytorch"
    provenance = PUBLISHED
    description = "leftthomas/SRGAN x4 generator (5 residual blocks, VOC2012, GAN-trained); RGB, LR input"
    arch = SRGAN_LT_ARCH
    weights = {4: WEIGHTS}
