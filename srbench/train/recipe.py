"""Training recipes: a recipe owns its networks, optimisers and learning-rate schedules, and turns one batch
into one optimisation step (`step(batch) -> {loss name: value}`). The loop (loop.py) owns data, logging,
checkpoints and distribution, so a paper's recipe is only its models and losses.

Recipes register by name in `RECIPES` (method folders register theirs on import, next to their adapters).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import torch
from torch import nn

from ..registry import Registry
from . import losses

RECIPES: Registry[type] = Registry("training recipe")


def register_recipe(name: str):
    def add(cls):
        cls.name = name
        RECIPES.register(name, cls)
        return cls

    return add


@dataclass
class TrainConfig:
    """Options every recipe understands; None means 'the recipe's (paper's) default'."""

    scale: int | None = None
    hr_patch: int | None = None
    batch_size: int | None = None
    degradation: str | None = None
    lr: float | None = None
    init: str | None = None            # generator weights to start from (e.g. the MSE-pretrained net)
    vgg_weights: str | None = None
    random_vgg: bool = False           # allow a randomly initialised VGG (tests; reported in the log)
    device: str = "cpu"
    seed: int = 0
    options: dict = field(default_factory=dict)   # recipe-specific extras (e.g. discriminator input size)

    def resolved(self, defaults: dict) -> "TrainConfig":
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for key, value in defaults.items():
            if key in values and values[key] is None:
                values[key] = value
        return TrainConfig(**values)


def unwrap(module: nn.Module) -> nn.Module:
    """The plain module inside a DistributedDataParallel wrapper."""
    return getattr(module, "module", module)


class TrainRecipe:
    """Base recipe. Subclasses set `defaults` (the paper's settings) and implement `build` and `step`."""

    name = ""
    description = ""
    method = ""                         # the registered method whose weights this recipe produces
    defaults: dict = {"scale": 4, "hr_patch": 96, "batch_size": 16, "degradation": "bicubic", "lr": 1e-4}
    generator_key = "G"
    # "lr": the LR patch; "lr_up": the LR patch MATLAB-bicubic-upsampled to HR size (pre-upsampling nets).
    input_key = "lr"

    def __init__(self, config: TrainConfig):
        self.config = config.resolved(self.defaults)
        self.device = torch.device(self.config.device)
        self.nets: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.schedulers: dict[str, object] = {}
        with torch.random.fork_rng():
            torch.manual_seed(self.config.seed)   # the same seed gives the same initial weights
            self.build()
        for net in self.nets.values():
            net.to(self.device)
        if self.config.init:
            self.load_generator(self.config.init)

    # ---- what a recipe provides
    def build(self) -> None:
        raise NotImplementedError

    def step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        raise NotImplementedError

    def make_sampler(self, data: list[str], max_images: int | None = None):
        """The source of training batches (`.batch(step, rank)`, `.pairs`, `.skipped`): by default aligned
        random patches from folders of HR images; recipes with paired data of their own override it."""
        from .data import PairedPatchSampler

        cfg = self.config
        return PairedPatchSampler(data, cfg.scale, cfg.hr_patch, cfg.batch_size, cfg.degradation, seed=cfg.seed,
                                  max_images=max_images, upsampled=self.input_key == "lr_up")

    # ---- provided
    def generator(self) -> nn.Module:
        return unwrap(self.nets[self.generator_key])

    def load_generator(self, path: str) -> None:
        from ..methods.base import load_state_dict

        state = {k: v.float() if v.is_floating_point() else v for k, v in load_state_dict(path).items()}
        self.generator().load_state_dict(state)

    def adam(self, net: nn.Module, lr: float | None = None, betas=(0.9, 0.999)) -> torch.optim.Adam:
        return torch.optim.Adam([p for p in net.parameters() if p.requires_grad],
                                lr=self.config.lr if lr is None else lr, betas=betas)

    def perceptual(self, arch: str, layer: str, feature_scale: float = 1.0):
        """A frozen VGG feature extractor (not part of the checkpoint). Its weights are an asset; when they are
        missing and the config allows it, a randomly initialised VGG is used and `vgg_identity` says so."""
        from ..errors import AssetError
        from .vgg import VGGFeatures

        try:
            net = VGGFeatures(arch, layer, weights=self.config.vgg_weights, feature_scale=feature_scale)
        except AssetError:
            if not self.config.random_vgg:
                raise
            net = VGGFeatures(arch, layer, random_init=True, feature_scale=feature_scale, seed=self.config.seed)
        self.vgg_identity = f"{arch} {layer}: {net.weights_identity}"
        return net.to(self.device)

    def step_lr(self, name: str, milestones: list[int], gamma: float) -> None:
        """Learning-rate decay of optimiser `name` at the given step counts (stepped once per update)."""
        self.schedulers[name] = torch.optim.lr_scheduler.MultiStepLR(self.optimizers[name], milestones, gamma)

    def distribute(self, wrap) -> None:
        """Wrap every trainable network (DistributedDataParallel); optimisers keep the same parameters."""
        self.nets = {k: wrap(v) if any(p.requires_grad for p in v.parameters()) else v
                     for k, v in self.nets.items()}

    def exported_state(self) -> dict:
        """The generator weights `srbench train` exports (generator_fp16.pth): by default the current ones;
        a recipe that selects a checkpoint (MR-SRGAN: best held-out SSIM) returns the selected one."""
        return self.generator().state_dict()

    def extra_state(self) -> dict:
        """Recipe state beyond networks, optimisers and schedules (e.g. a best-checkpoint selector)."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    def state_dict(self) -> dict:
        return {"nets": {k: unwrap(v).state_dict() for k, v in self.nets.items()},
                "optimizers": {k: v.state_dict() for k, v in self.optimizers.items()},
                "schedulers": {k: v.state_dict() for k, v in self.schedulers.items()},
                "extra": self.extra_state()}

    def load_state_dict(self, state: dict) -> None:
        for key, net in self.nets.items():
            unwrap(net).load_state_dict(state["nets"][key])
        for key, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][key])
        for key, sched in self.schedulers.items():
            sched.load_state_dict(state["schedulers"][key])
        self.load_extra_state(state.get("extra", {}))

    def _update(self, name: str, loss: torch.Tensor) -> None:
        opt = self.optimizers[name]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if name in self.schedulers:
            self.schedulers[name].step()


class PixelRecipe(TrainRecipe):
    """Generator alone, pixel-wise MSE (SRResNet-MSE, the MSE pre-training of every GAN family)."""

    def make_generator(self) -> nn.Module:
        raise NotImplementedError

    def build(self) -> None:
        self.nets["G"] = self.make_generator()
        self.optimizers["G"] = self.adam(self.nets["G"])

    def step(self, batch):
        self.nets["G"].train()
        sr = self.nets["G"](batch[self.input_key])
        loss = losses.mse(sr, batch["hr"])
        self._update("G", loss)
        return {"loss_g": loss.item(), "mse": loss.item()}


class AdversarialRecipe(TrainRecipe):
    """Generator G and discriminator D updated alternately once per step (k = 1, as SRGAN).

    Subclasses provide the networks, `content_terms(sr, hr) -> {name: weighted loss}` and `adv_weight`;
    `generator_adversarial` and the two halves of the discriminator's loss default to the -log D forms.

    D sees real and generated images in separate passes, and the generator is scored by D on a batch of
    generated images alone: a D with BatchNorm (in train mode throughout, as in SRGAN) thus normalises the
    fakes it is trained on and the fakes G tries to pass off with the same kind of batch statistics. (One
    combined real+fake pass would train D on mixed statistics that the generator step never produces.)
    """

    adv_weight = 1e-3

    def make_generator(self) -> nn.Module:
        raise NotImplementedError

    def make_discriminator(self) -> nn.Module:
        raise NotImplementedError

    def content_terms(self, sr: torch.Tensor, hr: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def generator_adversarial(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return losses.generator_nll(fake_logits)

    def discriminator_real(self, real_logits: torch.Tensor) -> torch.Tensor:
        return losses.discriminator_nll_real(real_logits)

    def discriminator_fake(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return losses.discriminator_nll_fake(fake_logits)

    def build(self) -> None:
        self.nets["G"] = self.make_generator()
        self.nets["D"] = self.make_discriminator()
        self.optimizers["G"] = self.adam(self.nets["G"])
        self.optimizers["D"] = self.adam(self.nets["D"])

    def _update_discriminator(self, hr: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """One D update from a real-only and a fake-only pass. Each pass has its own backward (gradients
        accumulate before the single optimiser step): DistributedDataParallel needs one forward per backward."""
        D, opt = self.nets["D"], self.optimizers["D"]
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for images, half in ((hr, self.discriminator_real), (fake, self.discriminator_fake)):
            loss = half(D(images))
            loss.backward()
            total = total + loss.detach()
        opt.step()
        if "D" in self.schedulers:
            self.schedulers["D"].step()
        return total

    def step(self, batch):
        G, D = self.nets["G"], self.nets["D"]
        G.train()
        D.train()
        hr = batch["hr"]
        sr = G(batch[self.input_key])
        d_loss = self._update_discriminator(hr, sr.detach())
        d_plain = unwrap(D)
        for p in d_plain.parameters():   # D is fixed while G learns to fool it
            p.requires_grad_(False)
        try:
            terms = self.content_terms(sr, hr)
            adv = self.generator_adversarial(d_plain(sr))   # a fake-only batch, as D's fake pass
            g_loss = sum(terms.values()) + self.adv_weight * adv
            self._update("G", g_loss)
        finally:
            for p in d_plain.parameters():
                p.requires_grad_(True)
        out = {"loss_g": g_loss.item(), "loss_d": float(d_loss), "adv": adv.item()}
        out.update({k: v.item() for k, v in terms.items()})
        return out
