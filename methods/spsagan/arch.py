"""SPSAGAN networks (Zhang et al., paper 002): RRSB trunk + segmentation-prior self-attention (SPSA).

Generator (ESRGAN layout): conv_first -> nb residual-in-residual blocks -> trunk conv (+ skip) -> SPSA
layer at LR resolution -> nearest-neighbour x2 upsampling + conv stages -> HR conv -> output conv.
Each residual-in-residual block holds three 5-conv dense blocks; an RRSB is one whose dense connections
were pruned (see pruning.py); `pattern=None` keeps them all (RRDB).

The paper configuration (nf 64, gc 32, 23 blocks, as ESRGAN) is `SPSAGAN_PAPER`.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

DENSE_LAYERS = 5


def dense_pattern() -> tuple[tuple[int, ...], ...]:
    """Full RRDB connectivity: layer l (1-based) reads x0 .. x_{l-1}."""
    return tuple(tuple(range(l)) for l in range(1, DENSE_LAYERS + 1))


class SparseDenseBlock(nn.Module):
    """A dense block whose layer l concatenates only the inputs listed in `pattern[l-1]` (indices into
    x0 .. x_{l-1}); with the full pattern it is ESRGAN's ResidualDenseBlock_5C. Residual scale 0.2."""

    def __init__(self, nf: int = 64, gc: int = 32, pattern=None):
        super().__init__()
        self.pattern = tuple(tuple(p) for p in (pattern or dense_pattern()))
        if len(self.pattern) != DENSE_LAYERS:
            raise ValueError(f"a dense block pattern needs {DENSE_LAYERS} layers")
        self.convs = nn.ModuleList()
        for l, kept in enumerate(self.pattern, start=1):
            if not kept or any(i < 0 or i >= l for i in kept):
                raise ValueError(f"layer {l}: kept inputs {kept} must be a non-empty subset of 0..{l - 1}")
            in_ch = sum(nf if i == 0 else gc for i in kept)
            self.convs.append(nn.Conv2d(in_ch, nf if l == DENSE_LAYERS else gc, 3, 1, 1))
        self.act = nn.LeakyReLU(0.2)
        self.recorder = None  # set by pruning.DissimilarityRecorder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for l, (conv, kept) in enumerate(zip(self.convs, self.pattern), start=1):
            out = conv(torch.cat([feats[i] for i in kept], dim=1) if len(kept) > 1 else feats[kept[0]])
            feats.append(self.act(out) if l < DENSE_LAYERS else out)
        if self.recorder is not None:
            self.recorder(self, feats)
        return feats[-1] * 0.2 + x


class RRSB(nn.Module):
    """Residual-in-residual block of three (possibly pruned) dense blocks."""

    def __init__(self, nf: int = 64, gc: int = 32, patterns=None):
        super().__init__()
        patterns = patterns or [None] * 3
        self.blocks = nn.Sequential(*[SparseDenseBlock(nf, gc, p) for p in patterns])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x) * 0.2 + x


class SPSA(nn.Module):
    """Segmentation-prior self-attention.

    beta_fea[j, i] = softmax_i(f_fea(x_i) . g_fea(x_j)); z = alpha * Conv_{s x s, stride s}(m_seg) brings the
    HR-size probability map to the feature grid; beta_seg likewise from z; w = |b_seg - b_fea| / (b_seg +
    b_fea) in [0, 1]; beta = w b_seg + (1 - w) b_fea renormalised over i; o_j = sum_i beta[j, i] h(x_i).
    The layer returns x + gamma * o with gamma starting at 0 (as SAGAN), so a PSNR-pretrained trunk
    without the layer is a valid initialisation, as the paper's two-step training requires.

    Attention is O(N^2) in the N = H*W feature pixels; rows are computed `chunk` queries at a time, so
    the extra memory is about 6 * chunk * N floats (the live N-wide temporaries of softmax and fusion)
    instead of N^2; `max_attention_bytes` lowers the chunk for large inputs to stay within that budget.
    """

    max_attention_bytes = 512 * 2 ** 20
    TEMPORARIES = 6

    def __init__(self, channels: int, seg_classes: int, scale: int, reduction: int = 8, chunk: int = 1024):
        super().__init__()
        inner = max(channels // reduction, 1)
        self.f_fea = nn.Conv2d(channels, inner, 1)
        self.g_fea = nn.Conv2d(channels, inner, 1)
        self.h = nn.Conv2d(channels, channels, 1)
        self.transform = nn.Conv2d(seg_classes, channels, scale, scale)
        self.f_seg = nn.Conv2d(channels, inner, 1)
        self.g_seg = nn.Conv2d(channels, inner, 1)
        self.alpha = nn.Parameter(torch.ones(()))
        self.gamma = nn.Parameter(torch.zeros(()))
        # alpha starts as mean|x| / mean|Conv(m_seg)| measured on the first training batch (paper, Sec. 3.1).
        self.register_buffer("alpha_ready", torch.zeros((), dtype=torch.bool))
        self.chunk = chunk

    def segmentation_features(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        conv = self.transform(seg)
        if conv.shape[-2:] != x.shape[-2:]:
            raise ValueError(f"segmentation map {tuple(seg.shape[-2:])} does not map onto features "
                             f"{tuple(x.shape[-2:])}")
        if self.training and not bool(self.alpha_ready):
            with torch.no_grad():
                self.alpha.fill_(float(x.abs().mean() / conv.abs().mean().clamp_min(1e-8)))
                self.alpha_ready.fill_(True)
        return self.alpha * conv

    @staticmethod
    def combine(b_fea: torch.Tensor, b_seg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Fusion of Eq. (5)-(6): returns (w_seg, renormalised combined attention)."""
        w = (b_seg - b_fea).abs() / (b_seg + b_fea).clamp_min(1e-30)
        comb = b_fea + w * (b_seg - b_fea)
        return w, comb / comb.sum(dim=-1, keepdim=True)

    def _projections(self, x, seg):
        z = self.segmentation_features(x, seg)
        flat = lambda t: t.flatten(2)  # noqa: E731  (B, C', N)
        return (flat(self.f_fea(x)), flat(self.g_fea(x)), flat(self.f_seg(z)), flat(self.g_seg(z)),
                flat(self.h(x)))

    def attention_maps(self, x: torch.Tensor, seg: torch.Tensor) -> dict[str, torch.Tensor]:
        """Full N x N maps (rows j = queries), for inspection and tests on small inputs."""
        f_fea, g_fea, f_seg, g_seg, _ = self._projections(x, seg)
        b_fea = torch.softmax(g_fea.transpose(1, 2) @ f_fea, dim=-1)
        b_seg = torch.softmax(g_seg.transpose(1, 2) @ f_seg, dim=-1)
        w, comb = self.combine(b_fea, b_seg)
        return {"feature": b_fea, "segmentation": b_seg, "w_seg": w, "combined": comb}

    def chunk_for(self, n: int, batch: int = 1, itemsize: int = 4) -> int:
        """Query rows per chunk for N pixels: `chunk`, lowered to keep the temporaries in budget."""
        fit = self.max_attention_bytes // (self.TEMPORARIES * n * batch * itemsize)
        return int(max(1, min(self.chunk, fit)))

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        b, c, hgt, wid = x.shape
        f_fea, g_fea, f_seg, g_seg, h = self._projections(x, seg)
        h_t = h.transpose(1, 2)  # (B, N, C)
        n = hgt * wid
        chunk = self.chunk_for(n, b, x.element_size())
        outs = []
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            b_fea = torch.softmax(g_fea[:, :, start:stop].transpose(1, 2) @ f_fea, dim=-1)
            b_seg = torch.softmax(g_seg[:, :, start:stop].transpose(1, 2) @ f_seg, dim=-1)
            _, comb = self.combine(b_fea, b_seg)
            del b_fea, b_seg
            outs.append(comb @ h_t)
        o = torch.cat(outs, dim=1).transpose(1, 2).reshape(b, c, hgt, wid)
        return x + self.gamma * o


@dataclass(frozen=True)
class SPSAGANConfig:
    nf: int = 64
    gc: int = 32
    blocks: int = 23
    scale: int = 4
    seg_classes: int = 8
    use_spsa: bool = True
    # srbench deviation for CPU-budget training (off in the paper configuration): add a bicubic upsampling
    # of the LR input to the output, so the network only learns the residual.
    global_residual: bool = False
    # pruned connectivity: one 5-tuple of kept-input tuples per dense block (3 per RRSB); None = RRDB
    patterns: tuple | None = field(default=None)

    def to_dict(self) -> dict:
        return asdict(self)


SPSAGAN_PAPER = SPSAGANConfig()


class SPSAGenerator(nn.Module):
    """LR image in [0, 1] + HR-size segmentation probabilities -> SR image (not clamped)."""

    def __init__(self, cfg: SPSAGANConfig = SPSAGAN_PAPER):
        super().__init__()
        if cfg.scale & (cfg.scale - 1):
            raise ValueError("scale must be a power of two")
        self.cfg = cfg
        nf = cfg.nf
        pats = cfg.patterns
        if pats is not None and len(pats) != 3 * cfg.blocks:
            raise ValueError(f"{len(pats)} dense-block patterns for {cfg.blocks} blocks (need {3 * cfg.blocks})")
        self.conv_first = nn.Conv2d(3, nf, 3, 1, 1)
        self.trunk = nn.Sequential(*[RRSB(nf, cfg.gc, None if pats is None else pats[3 * k: 3 * k + 3])
                                     for k in range(cfg.blocks)])
        self.trunk_conv = nn.Conv2d(nf, nf, 3, 1, 1)
        self.spsa = SPSA(nf, cfg.seg_classes, cfg.scale) if cfg.use_spsa else None
        self.upconvs = nn.ModuleList(nn.Conv2d(nf, nf, 3, 1, 1) for _ in range(int(math.log2(cfg.scale))))
        self.hr_conv = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_last = nn.Conv2d(nf, 3, 3, 1, 1)
        self.act = nn.LeakyReLU(0.2)

    def dense_blocks(self) -> list[SparseDenseBlock]:
        return [m for m in self.trunk.modules() if isinstance(m, SparseDenseBlock)]

    def forward(self, x: torch.Tensor, seg: torch.Tensor | None = None) -> torch.Tensor:
        fea = self.conv_first(x)
        fea = fea + self.trunk_conv(self.trunk(fea))
        if self.spsa is not None:
            if seg is None:
                raise ValueError("SPSA needs a segmentation probability map")
            fea = self.spsa(fea, seg)
        for conv in self.upconvs:
            fea = self.act(conv(F.interpolate(fea, scale_factor=2, mode="nearest")))
        out = self.conv_last(self.act(self.hr_conv(fea)))
        if self.cfg.global_residual:
            out = out + F.interpolate(x, scale_factor=self.cfg.scale, mode="bicubic", align_corners=False)
        return out


class VGGDiscriminator(nn.Module):
    """VGG-style discriminator (SRGAN/ESRGAN): conv pairs (3x3 s1, 4x4 s2) doubling width to 8*nf, BN,
    leaky ReLU 0.2, then dense 100 -> 1. `input_size` must be a multiple of 32 (96 = the paper's crop)."""

    def __init__(self, nf: int = 64, input_size: int = 96):
        super().__init__()
        if input_size % 32:
            raise ValueError("input_size must be a multiple of 32")
        layers: list[nn.Module] = [nn.Conv2d(3, nf, 3, 1, 1), nn.LeakyReLU(0.2),
                                   nn.Conv2d(nf, nf, 4, 2, 1, bias=False), nn.BatchNorm2d(nf), nn.LeakyReLU(0.2)]
        ch = nf
        for mult in (2, 4, 8, 8):
            out = nf * mult
            layers += [nn.Conv2d(ch, out, 3, 1, 1, bias=False), nn.BatchNorm2d(out), nn.LeakyReLU(0.2),
                       nn.Conv2d(out, out, 4, 2, 1, bias=False), nn.BatchNorm2d(out), nn.LeakyReLU(0.2)]
            ch = out
        self.features = nn.Sequential(*layers)
        side = input_size // 32
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(ch * side * side, 100), nn.LeakyReLU(0.2),
                                        nn.Linear(100, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
