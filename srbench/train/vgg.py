"""VGG16/VGG19 feature extractors for perceptual losses.

phi_{i,j} is the j-th convolution's output (after its ReLU) before the i-th max-pooling layer (SRGAN's and
MSFM's notation). The module layout is torchvision's `features` Sequential, so torchvision's ImageNet
state_dicts load unchanged. The weights are an `Asset`; without them training refuses to start unless the
caller asks for a randomly initialised VGG (`random_init=True`), which tests use and which a training log
reports.
"""
from __future__ import annotations

import re

import torch
from torch import nn

from ..assets import Asset, sha256_file
from ..errors import AssetError, UserError

# Channel plan per block ('M' = max-pool), as in Simonyan & Zisserman configurations D (16) and E (19).
_CONFIGS = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}

# torchvision's canonical files. The file name carries the first 8 hex digits of the file's sha256
# (torch.hub's convention), which is checked even where the full digest is not recorded here.
VGG_ASSETS = {
    "vgg16": Asset("vgg16-397923af.pth", "vgg",
                   sha256="397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0",
                   shared_subpath="weights/vgg/vgg16-397923af.pth",
                   urls=["https://download.pytorch.org/models/vgg16-397923af.pth"]),
    "vgg19": Asset("vgg19-dcbb9e9d.pth", "vgg", sha256=None,
                   shared_subpath="weights/vgg/vgg19-dcbb9e9d.pth",
                   urls=["https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"]),
}

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def layer_index(arch: str, layer: str) -> int:
    """Index in `features` of the ReLU that produces phi_{i,j} ('phi_5_4', 'phi5,4', '5_4' ...)."""
    match = re.fullmatch(r"(?:phi)?_?(\d)[,_.](\d)", layer.replace(" ", ""))
    if arch not in _CONFIGS or not match:
        raise UserError(f"unknown VGG layer '{arch}:{layer}' (use e.g. vgg19 phi_5_4)")
    block, conv = int(match.group(1)), int(match.group(2))
    index, b, c = 0, 1, 0
    for item in _CONFIGS[arch]:
        if item == "M":
            b, c = b + 1, 0
            index += 1
            continue
        c += 1
        if (b, c) == (block, conv):
            return index + 1  # the ReLU right after this conv
        index += 2
    raise UserError(f"{arch} has no layer phi_{block},{conv}")


def build_features(arch: str, upto: int | None = None) -> nn.Sequential:
    layers: list[nn.Module] = []
    in_ch = 3
    for item in _CONFIGS[arch]:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_ch, item, 3, padding=1), nn.ReLU(inplace=True)]
            in_ch = item
    return nn.Sequential(*layers[: None if upto is None else upto + 1])


class VGGFeatures(nn.Module):
    """Frozen VGG truncated at phi_{i,j}; input RGB in [0, 1], ImageNet-normalised inside.

    feature_scale multiplies the features (SRGAN rescales VGG features by 1/12.75 so the VGG loss has the
    magnitude of the MSE loss).
    """

    def __init__(self, arch: str = "vgg19", layer: str = "phi_5_4", weights: str | None = None,
                 random_init: bool = False, feature_scale: float = 1.0, seed: int = 0,
                 pre_activation: bool = False):
        super().__init__()
        self.arch, self.layer, self.feature_scale = arch, layer, feature_scale
        # pre_activation: the conv output before its ReLU (ESRGAN's perceptual loss, "before activation").
        self.features = build_features(arch, layer_index(arch, layer) - int(pre_activation))
        if random_init:
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                for m in self.features:
                    if isinstance(m, nn.Conv2d):
                        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                        nn.init.zeros_(m.bias)
            self.weights_identity = "random-init"
        else:
            self.weights_identity = self._load(weights)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def _load(self, explicit: str | None) -> str:
        asset = VGG_ASSETS[self.arch]
        try:
            path = asset.resolve(explicit)
        except AssetError as exc:
            raise AssetError(f"{exc}. Pass --vgg-weights FILE, or --random-vgg to train with a randomly "
                             f"initialised VGG (the perceptual loss is then not the paper's)") from None
        digest = sha256_file(path)
        prefix = asset.name.rsplit("-", 1)[1].split(".")[0]
        if not digest.startswith(prefix):
            raise AssetError(f"{path}: sha256 {digest[:16]}... does not start with {prefix} (not {asset.name})")
        from ..methods.base import load_state_dict

        state = {k[len("features."):]: v for k, v in load_state_dict(path).items() if k.startswith("features.")}
        state = {k: v for k, v in state.items() if int(k.split(".")[0]) < len(self.features)}
        self.features.load_state_dict(state)
        return digest

    def train(self, mode: bool = True):  # always frozen, whatever the caller's mode
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features((x - self.mean) / self.std) * self.feature_scale
