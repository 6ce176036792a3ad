"""SPSAGAN adapter (x4): LR RGB in [0, 1] + segmentation probabilities of the MATLAB-bicubic upsampled LR.

The segmentation prior comes from `SRBENCH_SEG_PRIOR` ("kmeans", the default colour/texture fallback, or
"folder:<path>" with the user's own maps; srbench.segmentation). A folder map for an image is looked up
as `<image name>.npy` (the file stem, e.g. `baby.npy`, when the runner knows it), then as
`<content_key(LR)>.npy` (srbench.segmentation.content_key of the uint8 LR pixels), at HR size or any
size (resampled). No trained SPSAGAN weights are public; the checkpoint here is srbench-trained.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from srbench import matlab
from srbench.errors import Unavailable
from srbench.methods import register_method
from srbench.methods.base import SURROGATE, InputSpec, SRMethod
from srbench.train.trained import checkpoint_metadata, load_trained
from srbench.segmentation import content_key, prior_from_spec

from ..stage_gan.adapter import committed_weights  # the same srbench-trained checkpoint layout
from .arch import SPSAGANConfig, SPSAGenerator
from .recipe import PATTERN_FILE, load_pattern

HERE = Path(__file__).resolve().parent
CONFIG_FILE = HERE / "weights" / "config.json"
# Query rows per attention chunk: extra memory ~ 6 * chunk * N floats (MODEL_CARD.md gives the numbers).
ATTENTION_CHUNK = 1024


def generator_for(entry: dict) -> SPSAGenerator:
    """The shipped architecture: the config in weights/config.json with the pruned rrsb_pattern.json."""
    pat = load_pattern(HERE / entry.get("pattern", PATTERN_FILE.name))
    cfg = SPSAGANConfig(nf=pat["nf"], gc=pat["gc"], blocks=pat["blocks"], patterns=pat["patterns"],
                        scale=4, use_spsa=True, global_residual=bool(entry["arch"].get("global_residual")))
    return SPSAGenerator(cfg)


def config_from_metadata(arch: dict) -> SPSAGANConfig:
    """SPSAGANConfig from the "arch" record of a `srbench train` checkpoint (lists back to tuples)."""
    patterns = arch.get("patterns")
    if patterns is not None:
        patterns = tuple(tuple(tuple(k) for k in block) for block in patterns)
    return SPSAGANConfig(**{**arch, "patterns": patterns})


@register_method("spsagan")
class SPSAGANMethod(SRMethod):
    name = "spsagan"
    provenance = SURROGATE
    scales = (4,)
    description = "SPSAGAN (RRSB + segmentation-prior self-attention), srbench-trained on T91+General100"
    input_spec = InputSpec(channels="rgb", value_range=1.0, pre_upsample=False)
    receptive_field = 32

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prior = prior_from_spec()

    def build(self, scale: int):
        config = json.loads(CONFIG_FILE.read_text()) if CONFIG_FILE.is_file() else {}
        entry = config.get(f"x{scale}")
        if self.weights_override:
            # A user's checkpoint (any of the three SPSAGAN recipes): the architecture its `srbench train`
            # metadata records, else the shipped one.
            arch = checkpoint_metadata(self.weights_override).get("arch")
            generator = SPSAGenerator(config_from_metadata(arch)) if arch else generator_for(entry) if entry else None
            if generator is None:
                raise Unavailable(f"{self.name}: {self.weights_override} has no srbench metadata and no shipped "
                                  f"x{scale} architecture is recorded in {CONFIG_FILE}")
            entry = {**(entry or {}), "sha256": None}
        elif not entry:
            raise Unavailable(f"{self.name}: no srbench-trained x{scale} checkpoint recorded in {CONFIG_FILE}")
        else:
            generator = generator_for(entry)
        net, identity = load_trained(generator,
                                     committed_weights(HERE, f"spsagan_x{scale}_fp16.pth", entry["sha256"], self.name),
                                     self.name, HERE / "weights", self.weights_override)
        if net.spsa is not None:   # the RRDB / RRSB pre-training recipes have no attention layer
            net.spsa.chunk = ATTENTION_CHUNK
        return net, f"{identity}:prior={self.prior.identity}"

    def segmentation(self, x: torch.Tensor, scale: int) -> torch.Tensor:
        lr = np.rint(x[0].detach().cpu().numpy().transpose(1, 2, 0) * 255.0).clip(0, 255).astype(np.uint8)
        name, whole_hw = self.current_image
        # A tile is not the image its name refers to: only a whole-image input may use the name.
        by_name = name if name and tuple(lr.shape[:2]) == tuple(whole_hw) else None
        probs = self.prior.probabilities(matlab.imresize(lr, scale), key=(by_name, content_key(lr)))
        return torch.from_numpy(probs.transpose(2, 0, 1)[None].copy()).to(x.device)

    def forward(self, net, x: torch.Tensor, scale: int) -> torch.Tensor:
        return net(x, self.segmentation(x, scale) if net.spsa is not None else None)
