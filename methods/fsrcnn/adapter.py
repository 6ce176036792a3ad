"""FSRCNN adapter: yjn870/FSRCNN-pytorch weights (in that repository's pull-request ref refs/pull/6/head)."""
from __future__ import annotations

from srbench.methods import register_method
from srbench.methods.base import PUBLISHED
from srbench.methods.pretrained import PretrainedMethod, github_weights

from .arch import FSRCNN_ARCH

_SHA256 = {2: "1af70e2cbf0d11b942008d6c425e469e9fe275a68f3ac8b6c21e8672d6e67b69",
           3: "f65b55819c1258048bc8c1ca96f9e24bd4339f779951d7f928144c08e3868d75",
           4: "c15150d6787d487f38a68e66be5ec8a964182403af494e6a935fa03eeb56a630"}


@register_method("fsrcnn")
class FSRCNNMethod(PretrainedMethod):
    name = "fsrcnn"
    provenance = PUBLISHED
    description = "FSRCNN(56,12,4), yjn870 PyTorch weights trained on 91-image; Y channel, LR input"
    arch = FSRCNN_ARCH
    weights = {s: github_weights("yjn870/FSRCNN-pytorch", "597b52f7e8118ea014c079d32193a712181e003b",
                                 f"weights/fsrcnn_x{s}.pth", sha256=_SHA256[s],
                                 shared_subpath=f"weights/fsrcnn/fsrcnn_x{s}.pth",
                                 licence="none stated (no LICENSE file in yjn870/FSRCNN-pytorch)")
               for s in (2, 3, 4)}
