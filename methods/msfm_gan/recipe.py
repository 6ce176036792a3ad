"""MSFM training (Zhou et al. Sec. 3.3, 4.1): LR = Gaussian blur sigma 1 then bicubic x4 (`blur-bicubic`),
128x128 HR patches, 128 per batch, Adam lr 1e-4 decayed x0.8 every 20k steps, 200k steps, MSRA init.
`msfm-mse` is the MSE-only network of Table 1; `msfm-gan` the EPA loss of Tables 2/3:
MSE + 0.1 x VGG16 phi_4,3 MSE + 0.001 x (-log of the PatchGAN's mean probability).
Option vgg_weight=W replaces 0.1 (0 drops the perceptual term and needs no VGG weights)."""
from __future__ import annotations

from srbench.train import AdversarialRecipe, PixelRecipe, register_recipe
from srbench.train.losses import feature_mse, mse

from .arch import MSFMGenerator, PatchDiscriminator

DEFAULTS = {"scale": 4, "hr_patch": 128, "batch_size": 128, "degradation": "blur-bicubic", "lr": 1e-4}


@register_recipe("msfm-mse")
class MSFMMSE(PixelRecipe):
    description = "MSFM generator, pixel MSE (Table 1), blur-bicubic LR"
    method = "msfm-gan"
    defaults = DEFAULTS
    input_key = "lr_up"

    def make_generator(self):
        return MSFMGenerator()

    def build(self):
        super().build()
        self.step_lr("G", list(range(20_000, 200_001, 20_000)), 0.8)


@register_recipe("msfm-gan")
class MSFMEPA(AdversarialRecipe):
    description = "MSFM-GAN, EPA loss: MSE + 0.1 VGG16 phi_4,3 + 0.001 adversarial (PatchGAN)"
    method = "msfm-gan"
    defaults = DEFAULTS
    input_key = "lr_up"
    adv_weight = 1e-3
    perceptual_weight = 0.1

    def make_generator(self):
        return MSFMGenerator()

    def make_discriminator(self):
        return PatchDiscriminator()

    def build(self):
        super().build()
        self.perceptual_weight = float(self.config.options.get("vgg_weight", self.perceptual_weight))
        self.vgg = self.perceptual("vgg16", "phi_4_3") if self.perceptual_weight else None
        for name in ("G", "D"):
            self.step_lr(name, list(range(20_000, 200_001, 20_000)), 0.8)

    def content_terms(self, sr, hr):
        terms = {"mse": mse(sr, hr)}
        if self.vgg is not None:
            terms["vgg43"] = self.perceptual_weight * feature_mse(self.vgg, sr, hr)
        return terms
