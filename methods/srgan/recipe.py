"""SRGAN training (Ledig et al. Sec. 2.2 and 3.2): generator initialised from the MSE-trained SRResNet, content
loss = MSE of VGG19 phi_5,4 features rescaled by 1/12.75 (the factor of the paper's arXiv version, which brings
the VGG loss to the scale of the MSE loss), plus 1e-3 x (-log D(G(LR))); discriminator trained with
-log D(HR) - log(1 - D(G(LR))); Adam beta1 0.9, lr 1e-4 for 1e5 updates then 1e-5 for 1e5; 16 crops of 96x96.

Option content=mse gives the paper's SRGAN-MSE variant (Table 1 of the paper: pixel MSE + 1e-3 adversarial),
which needs no VGG weights."""
from __future__ import annotations

from srbench.train import AdversarialRecipe, register_recipe
from srbench.train.losses import feature_mse, mse
from srbench_methods.srresnet.arch import SRGANDiscriminator, SRResNet

VGG_RESCALE = 1.0 / 12.75


@register_recipe("srgan")
class SRGANRecipe(AdversarialRecipe):
    description = "SRGAN-VGG54: VGG19 phi_5,4 (/12.75) + 1e-3 adversarial; init from srresnet (--init)"
    method = "srgan"
    adv_weight = 1e-3

    def make_generator(self):
        return SRResNet(scale=self.config.scale)

    def make_discriminator(self):
        return SRGANDiscriminator(patch=self.config.hr_patch)

    def build(self):
        super().build()
        self.content = self.config.options.get("content", "vgg54")
        if self.content not in ("vgg54", "mse"):
            from srbench.errors import UserError

            raise UserError(f"srgan: option content={self.content}: expected vgg54 or mse")
        if self.content == "vgg54":
            self.vgg = self.perceptual("vgg19", "phi_5_4", VGG_RESCALE)
        self.step_lr("G", [100_000], 0.1)
        self.step_lr("D", [100_000], 0.1)

    def content_terms(self, sr, hr):
        if self.content == "mse":
            return {"mse": mse(sr, hr)}
        return {"vgg54": feature_mse(self.vgg, sr, hr)}
