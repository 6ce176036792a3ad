"""Best-checkpoint selection on a held-out set (Bi-GANs-ST trains MR-SRGAN for 600 epochs "and we choose the
best results according to the metric SSIM").

`BestSSIM` scores a generator every `every` steps on whole held-out images with srbench's evaluation
protocol (modcrop to the scale, the recipe's degradation, SR clamped and rounded to uint8, SSIM of the MATLAB
Y channel with `scale` pixels shaved, mean over images) and keeps a copy of the best generator state. Its
state travels in the training checkpoint, so a resumed run keeps selecting against the same best.
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import UserError


def heldout_images(folder: str | Path, max_images: int | None = None) -> list[np.ndarray]:
    """The uint8 RGB images of a folder (sorted by name), or of a registered dataset's HR folder."""
    from ..imageio import SUPPORTED_SUFFIXES, read_image

    path = Path(folder).expanduser()
    if not path.is_dir():
        from ..datasets import DATASETS, resolve_dataset

        if str(folder) not in DATASETS:
            raise UserError(f"{folder}: held-out set is neither a folder of images nor a dataset name")
        path = resolve_dataset(str(folder)).root
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
    if not files:
        raise UserError(f"{path}: no images for the held-out set")
    return [read_image(p) for p in files[:max_images]]


class BestSSIM:
    def __init__(self, images: list[np.ndarray], scale: int, degradation: str, every: int):
        from .. import matlab
        from ..degradations import degrade

        if every < 1:
            raise UserError(f"held-out evaluation interval must be a positive number of steps, got {every}")
        self.scale, self.every = scale, every
        self.pairs = []
        for img in images:
            hr = matlab.modcrop(img, scale)
            self.pairs.append((degrade(degradation, hr, scale), hr))
        self.best_ssim = float("-inf")
        self.best_step = 0
        self.best_state: dict | None = None

    def score(self, net: nn.Module, device: torch.device) -> float:
        """Mean SSIM-Y of `net` (LR in [0, 1] -> SR in [0, 1]) on the held-out pairs, in eval mode."""
        from .. import matlab
        from ..metrics.fidelity import ssim_index

        was_training = net.training
        net.eval()
        values = []
        try:
            with torch.no_grad():
                for lr, hr in self.pairs:
                    x = torch.from_numpy(lr.transpose(2, 0, 1)[None].astype(np.float32) / 255.0).to(device)
                    sr = net(x).clamp(0.0, 1.0)[0].cpu().numpy().transpose(1, 2, 0)
                    sr = np.rint(sr * 255.0).astype(np.uint8)
                    values.append(ssim_index(matlab.shave(matlab.rgb2y(sr), self.scale),
                                             matlab.shave(matlab.rgb2y(hr), self.scale)))
        finally:
            net.train(was_training)
        return float(np.mean(values))

    def maybe_update(self, step: int, net: nn.Module, device: torch.device) -> float | None:
        """After update number `step`: score when due; keep the state if it is the best so far."""
        if step % self.every:
            return None
        value = self.score(net, device)
        if value > self.best_ssim:
            self.best_ssim, self.best_step = value, step
            self.best_state = copy.deepcopy({k: v.detach().cpu() for k, v in net.state_dict().items()})
        return value

    def state_dict(self) -> dict:
        return {"best_ssim": self.best_ssim, "best_step": self.best_step, "best_state": self.best_state}

    def load_state_dict(self, state: dict) -> None:
        self.best_ssim, self.best_step = float(state["best_ssim"]), int(state["best_step"])
        self.best_state = state["best_state"]
