"""Bi-GANs-ST training recipes (Sec. 3.2, 3.3, 4.1): LR 24x24 / HR 96x96 crops, batch 16, bicubic x4, random
flips; lambda1 (adversarial) = 1e-3, lambda2 (perceptual) = 6e-3; Adam lr 1e-4.

- `mr-srgan`: L = MSE + 1e-3 x (-D(G(x))) (logarithm removed) + 6e-3 x VGG16 feature MSE; SRGAN's D.
  The VGG16 layer is not named in the paper: phi_5,3 (the last conv before pool 5, as SRGAN's phi_5,4) is ASSUMED.
  Option vgg_weight=W replaces 6e-3 (0 drops the perceptual term and needs no VGG weights).
  Best-checkpoint selection (Sec. 4.1: "we choose the best results according to the metric SSIM"): with
  `--option val=DIR|DATASET` the generator is scored every `val_every` steps (default 1000) on those held-out
  images (first `val_images`, default all; SSIM-Y, MATLAB protocol, srbench.train.selection) and the exported
  generator_fp16.pth is the best one so far (the log's best_ssim/best_step columns say which). The held-out
  images must not be a test set you report on.
- `mr-srgan-mse`: the MR-SRGAN generator with MSE only (srbench's pre-training, not a stage of the paper).
- `wp-srgan-stage1`: L1 = MSE + 1e-3 x (-log D(G(x))); D without BN; lr 1e-4, /10 after 2.5e5 of 5e5 steps.
- `wp-srgan-stage2`: L2 = 1e-3 x (-log D) + 6e-3 x VGG19 feature MSE (phi_5,4 ASSUMED), started (--init) from
  stage 1.
"""
from __future__ import annotations

from srbench.train import AdversarialRecipe, PixelRecipe, register_recipe
from srbench.train.losses import feature_mse, generator_prob, mse
from srbench_methods.srresnet.arch import SRGANDiscriminator

from .arch import MRSRGANGenerator, wp_srgan_generator
from .fold import fold_batchnorm

DEFAULTS = {"scale": 4, "hr_patch": 96, "batch_size": 16, "degradation": "bicubic", "lr": 1e-4}
LAMBDA_ADV, LAMBDA_VGG = 1e-3, 6e-3


@register_recipe("mr-srgan-mse")
class MRSRGANMSE(PixelRecipe):
    description = "MR-SRGAN generator (7 MR blocks), pixel MSE only (srbench pre-training)"
    method = "mr-srgan"
    defaults = DEFAULTS

    def make_generator(self):
        return MRSRGANGenerator(self.config.scale)


@register_recipe("mr-srgan")
class MRSRGAN(AdversarialRecipe):
    description = "MR-SRGAN: MSE + 1e-3 (-D) + 6e-3 VGG16 phi_5,3; SRGAN discriminator"
    method = "mr-srgan"
    defaults = DEFAULTS
    adv_weight = LAMBDA_ADV

    def make_generator(self):
        return MRSRGANGenerator(self.config.scale)

    def make_discriminator(self):
        return SRGANDiscriminator(patch=self.config.hr_patch)

    def build(self):
        super().build()
        opts = self.config.options
        self.vgg_weight = float(opts.get("vgg_weight", LAMBDA_VGG))
        self.vgg = self.perceptual("vgg16", "phi_5_3") if self.vgg_weight else None
        self.updates = 0
        self.selector = None
        if opts.get("val"):
            from srbench.train.selection import BestSSIM, heldout_images

            images = heldout_images(opts["val"], int(opts["val_images"]) if "val_images" in opts else None)
            self.selector = BestSSIM(images, self.config.scale, self.config.degradation,
                                     int(opts.get("val_every", 1000)))

    def step(self, batch):
        out = super().step(batch)
        self.updates += 1
        if self.selector is not None:
            self.selector.maybe_update(self.updates, self.generator(), self.device)
            out["best_ssim"] = self.selector.best_ssim if self.selector.best_state is not None else float("nan")
            out["best_step"] = self.selector.best_step
        return out

    def exported_state(self):
        if self.selector is not None and self.selector.best_state is not None:
            return self.selector.best_state
        return super().exported_state()

    def extra_state(self):
        return {"updates": self.updates, "selector": self.selector.state_dict() if self.selector else None}

    def load_extra_state(self, state):
        self.updates = int(state.get("updates", 0))
        if self.selector is not None and state.get("selector"):
            self.selector.load_state_dict(state["selector"])

    def generator_adversarial(self, fake_logits):
        return generator_prob(fake_logits)

    def content_terms(self, sr, hr):
        terms = {"mse": mse(sr, hr)}
        if self.vgg is not None:
            terms["vgg"] = self.vgg_weight * feature_mse(self.vgg, sr, hr)
        return terms


class _WPSRGAN(AdversarialRecipe):
    method = "wp-srgan"
    defaults = DEFAULTS
    adv_weight = LAMBDA_ADV

    def make_generator(self):
        return wp_srgan_generator(self.config.scale)

    def make_discriminator(self):
        return SRGANDiscriminator(patch=self.config.hr_patch, batch_norm=False)

    def build(self):
        super().build()
        self.step_lr("G", [250_000], 0.1)
        self.step_lr("D", [250_000], 0.1)

    def load_generator(self, path):
        """Accepts a WP-SRGAN generator, or an SRResNet with BN, whose BN is folded into its convs."""
        from srbench.methods.base import load_state_dict

        state = load_state_dict(path)
        if any(k.endswith("running_mean") for k in state):
            state = fold_batchnorm(state)
        self.generator().load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})


@register_recipe("wp-srgan-stage1")
class WPSRGANStage1(_WPSRGAN):
    description = "WP-SRGAN stage 1: MSE + 1e-3 (-log D); no BN anywhere"

    def content_terms(self, sr, hr):
        return {"mse": mse(sr, hr)}


@register_recipe("wp-srgan-stage2")
class WPSRGANStage2(_WPSRGAN):
    description = "WP-SRGAN stage 2: 1e-3 (-log D) + 6e-3 VGG19 phi_5,4; --init from stage 1"

    def build(self):
        super().build()
        self.vgg = self.perceptual("vgg19", "phi_5_4")

    def content_terms(self, sr, hr):
        return {"vgg": LAMBDA_VGG * feature_mse(self.vgg, sr, hr)}
