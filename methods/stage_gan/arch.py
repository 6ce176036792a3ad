"""Stage-GAN networks (Wei et al., KSII TIIS 2019, paper 000).

Stage-0: U-Net, bicubic-upsampled MR image -> semantic map (3-channel label picture).
Stage-1: U-Net, [MR, semantic map] -> HR image.
Stage-2: ResNet refiner (7x7 conv, two 3x3 stride-2 downsamples, 9 residual blocks, two 3x3 stride-2
         deconvolutions, 7x7 conv) -> refined HR image.
Discriminators: conditional 70x70 PatchGANs whose output is 30x30 on 256x256 inputs.

The paper's figures give the layer types but not the widths; the widths below (ngf = ndf = 64, an 8-level
U-Net for 256x256 inputs, bias only where no BatchNorm follows) are those of the pix2pix networks the paper
builds on ([12]); `STAGE_GAN_PAPER` records them. All images are in [-1, 1] (tanh outputs).

`residual=True` (off in the paper configuration) makes Stage-1/Stage-2 predict a correction added to their
image input; srbench's CPU-trained checkpoints use it so that a short training starts from bicubic quality.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


class BatchNorm(nn.BatchNorm2d):
    """BatchNorm2d (same state_dict) that can normalise with the statistics of the image being processed
    at inference (`per_image_stats`), as pix2pix-style generators trained with batch 1 are run: their
    running averages come from single small crops and are noisy."""

    per_image_stats = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training and self.per_image_stats:
            return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)
        return super().forward(x)


def _bn(ch: int) -> BatchNorm:
    return BatchNorm(ch)


def set_per_image_stats(module: nn.Module, on: bool = True) -> None:
    for m in module.modules():
        if isinstance(m, BatchNorm):
            m.per_image_stats = on


class UNetGenerator(nn.Module):
    """U-Net with 4x4 stride-2 convs: BN + leaky ReLU(0.2) encoder, BN + ReLU decoder, skip concatenation,
    dropout 0.5 in the three decoder levels below the bottleneck (the paper's noise), tanh output.

    Input height/width must be multiples of 2**depth (`StageGAN` pads arbitrary images).
    """

    def __init__(self, in_ch: int, out_ch: int, ngf: int = 64, depth: int = 8, dropout: float = 0.5,
                 residual: bool = False):
        super().__init__()
        if depth < 2:
            raise ValueError("U-Net depth must be >= 2")
        self.depth = depth
        self.residual = residual
        chans = [ngf * min(2 ** k, 8) for k in range(depth)]
        self.down = nn.ModuleList()
        for k in range(depth):
            layers: list[nn.Module] = [] if k == 0 else [nn.LeakyReLU(0.2, inplace=False)]
            layers.append(nn.Conv2d(in_ch if k == 0 else chans[k - 1], chans[k], 4, 2, 1, bias=False))
            if 0 < k < depth - 1:  # neither the first layer nor the 1x1 bottleneck is normalised
                layers.append(_bn(chans[k]))
            self.down.append(nn.Sequential(*layers))
        self.up = nn.ModuleList()
        for k in range(depth - 1, 0, -1):
            in_c = chans[k] if k == depth - 1 else 2 * chans[k]
            layers = [nn.ReLU(), nn.ConvTranspose2d(in_c, chans[k - 1], 4, 2, 1, bias=False), _bn(chans[k - 1])]
            if dropout > 0 and depth - 4 <= k <= depth - 2:
                layers.append(nn.Dropout(dropout))
            self.up.append(nn.Sequential(*layers))
        self.out = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(2 * chans[0], out_ch, 4, 2, 1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        h = x
        for layer in self.down:
            h = layer(h)
            skips.append(h)
        h = skips.pop()
        for layer in self.up:
            h = torch.cat([layer(h), skips.pop()], dim=1)
        y = self.out(h)
        if self.residual:
            return (x[:, : y.shape[1]] + y).clamp(-1.0, 1.0)
        return y


class ResidualBlock(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3, bias=False), _bn(ch), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3, bias=False), _bn(ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResNetRefiner(nn.Module):
    """Stage-2 generator. Input height/width must be multiples of 4."""

    def __init__(self, in_ch: int = 3, out_ch: int = 3, ngf: int = 64, blocks: int = 9, residual: bool = False):
        super().__init__()
        self.residual = residual
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_ch, ngf, 7, bias=False), _bn(ngf), nn.ReLU()]
        for m in (1, 2):
            layers += [nn.Conv2d(ngf * m, ngf * m * 2, 3, 2, 1, bias=False), _bn(ngf * m * 2), nn.ReLU()]
        layers += [ResidualBlock(ngf * 4) for _ in range(blocks)]
        for m in (4, 2):
            layers += [nn.ConvTranspose2d(ngf * m, ngf * m // 2, 3, 2, 1, output_padding=1, bias=False),
                       _bn(ngf * m // 2), nn.ReLU()]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_ch, 7), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return (x + y).clamp(-1.0, 1.0) if self.residual else y


class PatchDiscriminator(nn.Module):
    """Conditional PatchGAN: three 4x4 stride-2 convs then two 4x4 stride-1 convs (BN + leaky ReLU 0.2 except
    first/last); a 256x256 input gives a 30x30 map of real/fake logits."""

    def __init__(self, in_ch: int, ndf: int = 64):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_ch, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        ch = ndf
        for stride in (2, 2, 1):
            nxt = min(ch * 2, ndf * 8)
            layers += [nn.Conv2d(ch, nxt, 4, stride, 1, bias=False), _bn(nxt), nn.LeakyReLU(0.2)]
            ch = nxt
        layers.append(nn.Conv2d(ch, 1, 4, 1, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, condition: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([condition, image], dim=1))


@dataclass(frozen=True)
class StageGANConfig:
    ngf: int = 64            # U-Net base width (both U-Nets)
    depth: int = 8           # U-Net levels; inputs are padded to multiples of 2**depth
    refiner_ngf: int = 64
    refiner_blocks: int = 9
    dropout: float = 0.5
    residual: bool = False   # srbench deviation for short trainings (see module docstring)
    sem_channels: int = 3    # semantic maps are RGB label pictures

    def to_dict(self) -> dict:
        return asdict(self)


STAGE_GAN_PAPER = StageGANConfig()


class StageGAN(nn.Module):
    """The three generators chained: MR -> (semantic map, Stage-1 image, Stage-2 image), all in [-1, 1]."""

    def __init__(self, cfg: StageGANConfig = STAGE_GAN_PAPER):
        super().__init__()
        self.cfg = cfg
        self.stage0 = UNetGenerator(3, cfg.sem_channels, cfg.ngf, cfg.depth, cfg.dropout)
        self.stage1 = UNetGenerator(3 + cfg.sem_channels, 3, cfg.ngf, cfg.depth, cfg.dropout, cfg.residual)
        self.stage2 = ResNetRefiner(3, 3, cfg.refiner_ngf, cfg.refiner_blocks, cfg.residual)

    def stages(self, mr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Input size must already be a multiple of 2**depth (training crops are)."""
        sem = self.stage0(mr)
        s2 = self.stage1(torch.cat([mr, sem], dim=1))
        return sem, s2, self.stage2(s2)

    def forward(self, mr: torch.Tensor) -> torch.Tensor:
        """Any-size MR image in [-1, 1] -> refined HR image in [-1, 1] (replicate-pads, runs, crops)."""
        h, w = mr.shape[-2:]
        m = 2 ** self.cfg.depth
        ph, pw = (-h) % m, (-w) % m
        x = F.pad(mr, (0, pw, 0, ph), mode="replicate") if ph or pw else mr
        return self.stages(x)[2][..., :h, :w]


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
