"""Stage-GAN adapter: bicubic-upsampled MR image (RGB, [0, 1]) -> Stage-0 -> Stage-1 -> Stage-2.

No trained Stage-GAN weights are public; the checkpoints here were trained by srbench (MODEL_CARD.md).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from srbench.assets import Asset, sha256_file
from srbench.errors import AssetError, ChecksumError, Unavailable
from srbench.methods import register_method
from srbench.methods.base import InputSpec, SRMethod, load_state_dict
from srbench.methods.pretrained import load_strict

from .arch import StageGAN, StageGANConfig, set_per_image_stats

HERE = Path(__file__).resolve().parent
# Architecture of the shipped checkpoints (narrower than the paper's, see MODEL_CARD.md); the file
# weights/config.json is written by the training script next to the weights.
CONFIG_FILE = HERE / "weights" / "config.json"


def _shipped() -> dict:
    return json.loads(CONFIG_FILE.read_text()) if CONFIG_FILE.is_file() else {}


def srbench_weights(folder: Path, name: str, sha256: str, method: str, override: str | None = None) -> Path:
    """Verified path of an srbench-trained checkpoint: `folder/weights/name`, else
    $SRBENCH_SHARED/weights/<folder>/<name> or the cache. A wrong checksum is an error, absence Unavailable.
    An explicit `override` (the user's own retraining of the same architecture) is used as given."""
    if override:
        if not Path(override).is_file():
            raise AssetError(f"{override}: no such file")
        return Path(override)
    asset = Asset(name=name, kind="weights", sha256=sha256, shared_subpath=f"weights/{folder.name}/{name}")
    local = folder / "weights" / name
    try:
        return asset.resolve(str(local) if local.is_file() else None)
    except ChecksumError:
        raise
    except AssetError as exc:
        raise Unavailable(f"{method}: weights unavailable: {exc}") from None


@register_method("stage-gan")
class StageGANMethod(SRMethod):
    name = "stage-gan"
    scales = (4, 8)
    description = "Stage-GAN (semantic map -> reconstruction -> refinement), srbench-trained on T91+General100"
    input_spec = InputSpec(channels="rgb", value_range=1.0, pre_upsample=True)
    receptive_field = 64

    def build(self, scale: int):
        entry = _shipped().get(f"x{scale}")
        if not entry:
            raise Unavailable(f"{self.name}: no srbench-trained x{scale} checkpoint recorded in {CONFIG_FILE}")
        path = srbench_weights(HERE, f"stage_gan_x{scale}_fp16.pth", entry["sha256"], self.name,
                               self.weights_override)
        net = StageGAN(StageGANConfig(**entry["arch"]))
        state = {k: v.float() if v.is_floating_point() else v for k, v in load_state_dict(path).items()}
        load_strict(net, state, path)
        # pix2pix-style generators trained with batch 1 run with each image's own BatchNorm statistics.
        set_per_image_stats(net, entry.get("per_image_stats", True))
        return net, f"sha256:{sha256_file(path) if self.weights_override else entry['sha256']}"

    def forward(self, net, x: torch.Tensor, scale: int) -> torch.Tensor:
        return (net(x * 2.0 - 1.0) + 1.0) / 2.0
