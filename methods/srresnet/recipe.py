"""SRResNet-MSE training (Ledig et al. Sec. 3.2): pixel-wise MSE, Adam beta1 0.9, lr 1e-4, 16 random
96x96 HR crops per step, bicubic x4 LR, 10^6 steps in the paper."""
from __future__ import annotations

from srbench.train import PixelRecipe, register_recipe

from .arch import SRResNet


@register_recipe("srresnet")
class SRResNetMSE(PixelRecipe):
    description = "SRResNet (16 blocks, BN) with pixel MSE; the init of SRGAN"
    method = "srresnet"

    def make_generator(self):
        return SRResNet(scale=self.config.scale)
