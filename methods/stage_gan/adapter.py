"""Stage-GAN adapter: bicubic-upsampled MR image (RGB, [0, 1]) -> Stage-0 -> Stage-1 -> Stage-2.

No trained Stage-GAN weights are public; the checkpoints here were trained by srbench (MODEL_CARD.md).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from srbench.assets import Asset
from srbench.errors import Unavailable
from srbench.methods import register_method
from srbench.methods.base import InputSpec, SRMethod
from srbench.train.trained import load_trained, trained_weights

from .arch import StageGAN, StageGANConfig, set_per_image_stats

HERE = Path(__file__).resolve().parent
# Architecture of the shipped checkpoints (narrower than the paper's, see MODEL_CARD.md); the file
# weights/config.json is written by the training script next to the weights.
CONFIG_FILE = HERE / "weights" / "config.json"


def committed_weights(folder: Path, name: str, sha256: str, method: str) -> Asset:
    """The checkpoint `name` committed in `folder/weights/` (a copy may also stand at
    $SRBENCH_SHARED/weights/<folder name>/<name>)."""
    return trained_weights(name, sha256, method, shared_subpath=f"weights/{folder.name}/{name}")


def _shipped() -> dict:
    return json.loads(CONFIG_FILE.read_text()) if CONFIG_FILE.is_file() else {}


@register_method("stage-gan")
class StageGANMethod(SRMethod):
    name = "stage-gan"
    scales = (4, 8)
    description = ("Stage-GAN (semantic map -> reconstruction -> refinement), srbench-trained on T91+General100, "
                   "fine-tuned on the Facades train split")
    input_spec = InputSpec(channels="rgb", value_range=1.0, pre_upsample=True)
    receptive_field = 64

    def build(self, scale: int):
        entry = _shipped().get(f"x{scale}")
        if not entry:
            raise Unavailable(f"{self.name}: no srbench-trained x{scale} checkpoint recorded in {CONFIG_FILE}")
        net, identity = load_trained(StageGAN(StageGANConfig(**entry["arch"])),
                                     committed_weights(HERE, f"stage_gan_x{scale}_fp16.pth", entry["sha256"],
                                                       self.name),
                                     self.name, HERE / "weights", self.weights_override)
        # pix2pix-style generators trained with batch 1 run with each image's own BatchNorm statistics.
        set_per_image_stats(net, entry.get("per_image_stats", True))
        return net, identity

    def forward(self, net, x: torch.Tensor, scale: int) -> torch.Tensor:
        return (net(x * 2.0 - 1.0) + 1.0) / 2.0
