"""SPSAGAN training recipes (paper 002, Sec. 3.2 and 4). The paper's procedure, as three recipes plus the
pruning script:

1. `spsagan-rrdb`: the dense RRDB network (no SPSA) trained with L1 (lr 2e-4, batch 16, 96x96 HR crops);
2. `python -m srbench_methods.spsagan.prune` (or methods/spsagan/prune.py) measures the dissimilarities on
   training batches with the trained RRDB and writes the pruned pattern (rrsb_pattern.json);
3. `spsagan-psnr`: the RRSB network trained from scratch with L1, the PSNR-oriented pre-training;
4. `spsagan`: RRSB + SPSA layer initialised from step 3, Adam beta1 0.9, lr 5e-4 for the attention module
   and 1e-4 for the rest, loss = VGG19 perceptual + GAN (+ L1), with ESRGAN's weights (the paper cites
   ESRGAN's losses without restating them, "we apply the perceptual loss [37]", and calls itself an
   extension of ESRGAN [37]): L = L_percep + 5e-3 L_adv + 1e-2 L_1, in ESRGAN's forms:
   * L_percep: L1 distance of VGG19 conv5_4 features taken BEFORE the ReLU (ESRGAN Sec. 3.3);
   * L_adv: the relativistic average GAN (ESRGAN Sec. 3.2): D_Ra(a, b) = sigmoid(C(a) - E[C(b)]), the
     discriminator minimising (-E log D_Ra(HR, SR) - E log(1 - D_Ra(SR, HR)))/2 and the generator the
     symmetric form (srbench.train.losses.relativistic_*); the 1/2 is ESRGAN's training code, with which its
     5e-3 weight was set. The discriminator is the VGG-style one of SRGAN/EnhanceNet (paper Sec. 3), its real
     and generated batches passed separately.

Options: nf, gc, blocks (architecture), global_residual=1 (srbench's CPU-budget deviation, see arch.py), pattern=<json path> (default: the shipped rrsb_pattern.json),
pixel_only=1 (step 4 with L1 only, used when no VGG19 weights are available), prior=<spec> (see
srbench.segmentation.prior_from_spec), d_size (discriminator input = HR patch side).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from srbench import matlab
from srbench.segmentation import prior_from_spec
from srbench.train import TrainRecipe, register_recipe
from srbench.train import losses

from .arch import SPSAGANConfig, SPSAGenerator, VGGDiscriminator

PATTERN_FILE = Path(__file__).resolve().parent / "rrsb_pattern.json"
PERCEPTUAL_WEIGHT, ADV_WEIGHT, L1_WEIGHT = 1.0, 5e-3, 1e-2


def load_pattern(path: str | Path = PATTERN_FILE) -> dict:
    """{"nf", "gc", "blocks", "patterns": [[kept inputs per layer] per dense block]} from a pattern file."""
    data = json.loads(Path(path).read_text())
    data["patterns"] = tuple(tuple(tuple(k) for k in block) for block in data["patterns"])
    return data


def arch_from_options(options: dict, pruned: bool, use_spsa: bool) -> SPSAGANConfig:
    residual = bool(int(options.get("global_residual", 0)))
    if pruned:
        pat = load_pattern(options.get("pattern", PATTERN_FILE))
        return SPSAGANConfig(nf=pat["nf"], gc=pat["gc"], blocks=pat["blocks"], patterns=pat["patterns"],
                             use_spsa=use_spsa, global_residual=residual)
    return SPSAGANConfig(nf=int(options.get("nf", 64)), gc=int(options.get("gc", 32)),
                         blocks=int(options.get("blocks", 23)), use_spsa=use_spsa, global_residual=residual)


def segmentation_batch(prior, lr: torch.Tensor, scale: int) -> torch.Tensor:
    """Bx3xhxw LR in [0, 1] -> BxKx(sh)x(sw) probabilities of the MATLAB-bicubic upsampled LR (uint8)."""
    imgs = np.rint(lr.detach().cpu().numpy().transpose(0, 2, 3, 1) * 255.0).clip(0, 255).astype(np.uint8)
    maps = np.stack([prior.probabilities(matlab.imresize(img, scale)) for img in imgs])
    return torch.from_numpy(maps.transpose(0, 3, 1, 2)).float().to(lr.device)


class _SPSARecipeBase(TrainRecipe):
    defaults = {"scale": 4, "hr_patch": 96, "batch_size": 16, "degradation": "bicubic", "lr": 2e-4}
    pruned = True
    use_spsa = False

    def build_generator(self) -> SPSAGenerator:
        self.arch_config = arch_from_options(self.config.options, self.pruned, self.use_spsa)
        G = SPSAGenerator(self.arch_config)
        if self.arch_config.global_residual:  # start exactly at the bicubic base
            torch.nn.init.zeros_(G.conv_last.weight)
            torch.nn.init.zeros_(G.conv_last.bias)
        return G

    def build(self) -> None:
        self.nets["G"] = self.build_generator()
        self.optimizers["G"] = self.adam(self.nets["G"])
        # lr halves every 2e5 iterations (pre-training schedule of the paper)
        self.schedulers["G"] = torch.optim.lr_scheduler.StepLR(self.optimizers["G"], 200_000, 0.5)

    def step(self, batch):
        G = self.nets["G"]
        G.train()
        loss = F.l1_loss(G(batch["lr"]), batch["hr"])
        self._update("G", loss)
        return {"loss_g": loss.item(), "l1": loss.item()}


@register_recipe("spsagan-rrdb")
class RRDBPretrain(_SPSARecipeBase):
    description = "SPSAGAN step 1: dense RRDB network, L1 (its dissimilarities drive the RRSB pruning)"
    method = "spsagan"
    pruned = False


@register_recipe("spsagan-psnr")
class RRSBPretrain(_SPSARecipeBase):
    description = "SPSAGAN step 3: pruned RRSB network from scratch, L1 (PSNR-oriented pre-training)"
    method = "spsagan"


@register_recipe("spsagan")
class SPSAGANRecipe(_SPSARecipeBase):
    description = "SPSAGAN step 4: RRSB + SPSA layer, VGG19 perceptual + GAN + L1 (pixel_only=1: L1 only)"
    method = "spsagan"
    use_spsa = True
    defaults = {"scale": 4, "hr_patch": 96, "batch_size": 16, "degradation": "bicubic", "lr": 1e-4}

    def build(self) -> None:
        opts = self.config.options
        self.pixel_only = bool(int(opts.get("pixel_only", 0)))
        self.prior = prior_from_spec(str(opts.get("prior", "kmeans")))
        G = self.nets["G"] = self.build_generator()
        attn = [p for n, p in G.named_parameters() if n.startswith("spsa.")]
        rest = [p for n, p in G.named_parameters() if not n.startswith("spsa.")]
        self.optimizers["G"] = torch.optim.Adam([{"params": rest, "lr": self.config.lr},
                                                 {"params": attn, "lr": 5.0 * self.config.lr}],
                                                betas=(0.9, 0.999))
        self.schedulers["G"] = torch.optim.lr_scheduler.StepLR(self.optimizers["G"], 100_000, 0.5)
        if not self.pixel_only:
            from srbench.train.vgg import VGGFeatures

            self.vgg = VGGFeatures("vgg19", "phi_5_4", weights=self.config.vgg_weights,
                                   random_init=self.config.random_vgg, pre_activation=True).to(self.device)
            self.vgg_identity = self.vgg.weights_identity
            self.nets["D"] = VGGDiscriminator(64, int(opts.get("d_size", self.config.hr_patch)))
            self.optimizers["D"] = self.adam(self.nets["D"], betas=(0.9, 0.999))
            self.schedulers["D"] = torch.optim.lr_scheduler.StepLR(self.optimizers["D"], 100_000, 0.5)

    def load_generator(self, path: str) -> None:
        """Initialise from the PSNR-pretrained RRSB network: every key but the new SPSA layer must match."""
        from srbench.methods.base import load_state_dict

        state = {k: v.float() if v.is_floating_point() else v for k, v in load_state_dict(path).items()}
        missing, unexpected = self.generator().load_state_dict(state, strict=False)
        bad = [k for k in missing if not k.startswith("spsa.")] + list(unexpected)
        if bad:
            from srbench.errors import AssetError
            raise AssetError(f"{path}: does not match the SPSAGAN generator ({', '.join(bad[:4])})")

    def step(self, batch):
        G = self.nets["G"]
        G.train()
        lr, hr = batch["lr"], batch["hr"]
        seg = segmentation_batch(self.prior, lr, self.config.scale)
        sr = G(lr, seg)
        l1 = F.l1_loss(sr, hr)
        out = {"l1": l1.item()}
        if self.pixel_only:
            g_loss = l1
        else:
            D = self.nets["D"]
            D.train()
            d_loss = losses.relativistic_discriminator(D(hr), D(sr.detach()))
            self._update("D", d_loss)
            D.requires_grad_(False)
            adv = losses.relativistic_generator(D(hr).detach(), D(sr))
            D.requires_grad_(True)
            percep = F.l1_loss(self.vgg(sr), self.vgg(hr).detach())
            g_loss = PERCEPTUAL_WEIGHT * percep + ADV_WEIGHT * adv + L1_WEIGHT * l1
            out.update({"loss_d": d_loss.item(), "adv": adv.item(), "percep": percep.item()})
        self._update("G", g_loss)
        out["loss_g"] = g_loss.item()
        return out
