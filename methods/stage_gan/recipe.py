"""Stage-GAN training recipe (paper 000, Sec. 2.4 and 3.1).

Loss: sum over the three stages of a conditional GAN term plus 100 x L1 (Eq. 10); Adam lr 2e-4, beta1 0.5,
batch 1, Gaussian N(0, 0.02) initialisation; all images in [-1, 1]. Each discriminator sees its stage's
condition concatenated with the real or generated output (D0: MR + semantic map, D1: [MR, semantic map] +
HR, D2: Stage-1 image + HR) and its patch responses are averaged into one probability (losses.generator_nll).

The ground-truth semantic map of a patch is the Facades label picture when one is given (batch key "sem":
`--data` names a Facades folder, see facades.py), else srbench's colour/texture cluster map of the HR patch
(srbench.segmentation.ClusterPrior, rendered with its palette), see MODEL_CARD.md.

Learning rate (Sec. 3.1: "initially 0.0002 and then linearly decay to zero", pix2pix's schedule, whose
default is 100 epochs at the initial rate then 100 epochs of linear decay): constant for `lr_hold` steps, then
linearly down to zero over `lr_decay` steps, for generator and discriminators alike. Defaults: 100 epochs of
the paper's 400 training images each (40000 + 40000 steps at batch 1).

Options (`--option KEY=VALUE`): scale (4 or 8), ngf, depth, refiner_ngf, refiner_blocks, ndf, residual (0/1),
gan_weight (1 = paper; 0 = the L1-only pre-training srbench uses before the adversarial phase), lr_hold,
lr_decay (steps; see above).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from srbench import matlab
from srbench.errors import UserError
from srbench.segmentation import ClusterPrior
from srbench.train import TrainRecipe, register_recipe
from srbench.train import losses

from .arch import PatchDiscriminator, StageGAN, StageGANConfig
from .facades import FacadesSampler, as_facades_folder

L1_WEIGHT = 100.0
PAPER_EPOCH = 400          # training images in the paper's (pix2pix's) Facades split, batch 1
LR_HOLD = LR_DECAY = 100 * PAPER_EPOCH


def linear_decay(hold: int, decay: int):
    """LR factor after `step` updates: 1 for `hold` steps, then linearly to 0 over `decay` steps (pix2pix)."""
    def factor(step: int) -> float:
        if step < hold:
            return 1.0
        return max(0.0, 1.0 - (step - hold) / decay) if decay > 0 else 0.0

    return factor


def init_weights(net: nn.Module, std: float = 0.02) -> None:
    """Paper: weights from N(0, 0.02); BatchNorm scales from N(1, 0.02) as pix2pix."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


def config_from_options(options: dict) -> StageGANConfig:
    return StageGANConfig(ngf=int(options.get("ngf", 64)), depth=int(options.get("depth", 8)),
                          refiner_ngf=int(options.get("refiner_ngf", 64)),
                          refiner_blocks=int(options.get("refiner_blocks", 9)),
                          residual=bool(int(options.get("residual", 0))))


def to_unit_uint8(t: torch.Tensor) -> np.ndarray:
    """Bx3xHxW float in [0, 1] holding uint8 levels -> BxHxWx3 uint8."""
    return np.rint(t.detach().cpu().numpy().transpose(0, 2, 3, 1) * 255.0).clip(0, 255).astype(np.uint8)


def bicubic_mr(lr: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """MATLAB-bicubic upsampling of a [0, 1] LR batch to `hw`, as the adapter's pre-upsampling does."""
    arr = lr.detach().cpu().double().numpy().transpose(0, 2, 3, 1)
    up = np.stack([matlab.imresize(a, output_shape=hw) for a in arr])
    return torch.from_numpy(up.transpose(0, 3, 1, 2)).float().to(lr.device)


@register_recipe("stage-gan")
class StageGANRecipe(TrainRecipe):
    description = "Stage-GAN: semantic-map U-Net, reconstruction U-Net, ResNet-9 refiner; cGAN + 100 L1 per stage"
    method = "stage-gan"
    defaults = {"scale": 4, "hr_patch": 256, "batch_size": 1, "degradation": "bicubic", "lr": 2e-4}

    def __init__(self, config):
        if config.scale is None and "scale" in config.options:
            config.scale = int(config.options["scale"])
        super().__init__(config)

    def build(self) -> None:
        opts = self.config.options
        self.arch_config = config_from_options(opts)
        self.gan_weight = float(opts.get("gan_weight", 1.0))
        ndf = int(opts.get("ndf", 64))
        sem = self.arch_config.sem_channels
        self.nets["G"] = G = StageGAN(self.arch_config)
        init_weights(G)
        if self.arch_config.residual:
            # srbench deviation: a zero last layer makes the residual stages start as the identity (bicubic).
            for conv in (G.stage1.out[1], G.stage2.body[-2]):
                nn.init.zeros_(conv.weight)
                nn.init.zeros_(conv.bias)
        self.optimizers["G"] = self.adam(self.nets["G"], betas=(0.5, 0.999))
        if self.gan_weight > 0:
            self.nets["D0"] = PatchDiscriminator(3 + sem, ndf)
            self.nets["D1"] = PatchDiscriminator(3 + sem + 3, ndf)
            self.nets["D2"] = PatchDiscriminator(3 + 3, ndf)
            params = [p for k in ("D0", "D1", "D2") for p in self.nets[k].parameters()]
            for k in ("D0", "D1", "D2"):
                init_weights(self.nets[k])
            self.optimizers["D"] = torch.optim.Adam(params, lr=self.config.lr, betas=(0.5, 0.999))
        schedule = linear_decay(int(opts.get("lr_hold", LR_HOLD)), int(opts.get("lr_decay", LR_DECAY)))
        for key, opt in self.optimizers.items():
            self.schedulers[key] = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
        self.prior = ClusterPrior()

    def make_sampler(self, data, max_images=None):
        """Whole 256x256 Facades photos with their label maps when --data is a Facades folder (the paper's
        data), else HR patches whose semantic targets srbench derives (semantic_target)."""
        facades = [as_facades_folder(d) for d in data]
        if not any(facades):
            return super().make_sampler(data, max_images)
        if len(data) > 1:
            raise UserError(f"stage-gan: train on one Facades folder at a time (got --data {', '.join(data)})")
        return FacadesSampler(facades[0], self.config.scale, seed=self.config.seed,
                              batch_size=self.config.batch_size, degradation=self.config.degradation)

    def semantic_target(self, batch) -> torch.Tensor:
        if "sem" in batch:
            return batch["sem"] * 2.0 - 1.0
        maps = np.stack([self.prior.semantic_map(img) for img in to_unit_uint8(batch["hr"])])
        return torch.from_numpy(maps.transpose(0, 3, 1, 2)).float().to(self.device) / 127.5 - 1.0

    def step(self, batch):
        G = self.nets["G"]
        G.train()
        hr = batch["hr"] * 2.0 - 1.0
        mr = bicubic_mr(batch["lr"], tuple(hr.shape[-2:])) * 2.0 - 1.0
        sem_gt = self.semantic_target(batch)
        sem, s2, sr = G.stages(mr)
        out = {}
        if self.gan_weight > 0:
            D0, D1, D2 = self.nets["D0"], self.nets["D1"], self.nets["D2"]
            cond1 = torch.cat([mr, sem.detach()], dim=1)
            pairs = [(D0, mr, sem_gt, sem.detach()), (D1, cond1, hr, s2.detach()), (D2, s2.detach(), hr, sr.detach())]
            d_loss = sum(losses.discriminator_nll(D(c, real), D(c, fake)) for D, c, real, fake in pairs) * 0.5
            self._update("D", d_loss)
            out["loss_d"] = d_loss.item()
            for D in (D0, D1, D2):
                D.requires_grad_(False)
            adv = (losses.generator_nll(D0(mr, sem)) + losses.generator_nll(D1(torch.cat([mr, sem], 1), s2))
                   + losses.generator_nll(D2(s2, sr)))
            for D in (D0, D1, D2):
                D.requires_grad_(True)
        else:
            adv = torch.zeros((), device=hr.device)
        l1 = [(sem - sem_gt).abs().mean(), (s2 - hr).abs().mean(), (sr - hr).abs().mean()]
        g_loss = self.gan_weight * adv + L1_WEIGHT * sum(l1)
        self._update("G", g_loss)
        out.update({"loss_g": g_loss.item(), "adv": adv.item(), "l1_sem": l1[0].item(),
                    "l1_stage1": l1[1].item(), "l1_stage2": l1[2].item()})
        return out
