"""Stage-GAN adapter: bicubic-upsampled MR image (RGB, [0, 1]) -> Stage-0 -> Stage-1 -> Stage-2.

No trained Stage-GAN weights are public; the checkpoints here were trained by srbench (MODEL_CARD.md).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from srbench.assets import Asset
from srbench.methods import register_method
from srbench.methods.base import InputSpec, SRMethod, load_state_dict
from srbench.methods.pretrained import WeightsFile, load_strict, resolve_weights

from .arch import StageGAN, StageGANConfig, set_per_image_stats

HERE = Path(__file__).resolve().parent
# Architecture of the shipped checkpoints (narrower than the paper's, see MODEL_CARD.md); the file
# weights/config.json is written by the training script next to the weights.
CONFIG_FILE = HERE / "weights" / "config.json"


def _shipped() -> dict:
    return json.loads(CONFIG_FILE.read_text()) if CONFIG_FILE.is_file() else {}


def weights_file(scale: int, sha256: str | None) -> WeightsFile:
    name = f"stage_gan_x{scale}_fp16.pth"
    return WeightsFile(asset=Asset(name=name, kind="weights", sha256=sha256,
                                   shared_subpath=f"weights/stage_gan/{name}"),
                       licence="same as srbench (trained by srbench)",
                       source=f"srbench methods/stage_gan/weights/{name}")


@register_method("stage-gan")
class StageGANMethod(SRMethod):
    name = "stage-gan"
    scales = (4, 8)
    description = "Stage-GAN (semantic map -> reconstruction -> refinement), srbench-trained on T91+General100"
    input_spec = InputSpec(channels="rgb", value_range=1.0, pre_upsample=True)
    receptive_field = 64

    def build(self, scale: int):
        entry = _shipped().get(f"x{scale}", {})
        wf = weights_file(scale, entry.get("sha256"))
        explicit = self.weights_override or str(HERE / "weights" / wf.asset.name)
        if not Path(explicit).is_file() and not self.weights_override:
            explicit = None  # fall back to $SRBENCH_SHARED / cache
        if not entry:
            from srbench.errors import Unavailable
            raise Unavailable(f"{self.name}: no srbench-trained x{scale} checkpoint recorded in {CONFIG_FILE}")
        path = resolve_weights(wf, self.name, explicit)
        net = StageGAN(StageGANConfig(**entry["arch"]))
        state = {k: v.float() if v.is_floating_point() else v for k, v in load_state_dict(path).items()}
        load_strict(net, state, path)
        # pix2pix-style generators trained with batch 1 run with each image's own BatchNorm statistics.
        set_per_image_stats(net, entry.get("per_image_stats", True))
        return net, f"sha256:{entry['sha256']}"

    def forward(self, net, x: torch.Tensor, scale: int) -> torch.Tensor:
        return (net(x * 2.0 - 1.0) + 1.0) / 2.0
