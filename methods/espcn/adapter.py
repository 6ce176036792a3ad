"""ESPCN adapter. These weights take 3-channel YCbCr in [0, 1] (LR in directly) and return YCbCr.

Which YCbCr: the repository's utils at HEAD use the JFIF (full-range) formulas, with the studio-range
("Intel IPP") formulas commented out next to them. Measured on Set5 with MATLAB-bicubic LR, JFIF input
gives no gain over bicubic (x2 33.45 dB vs bicubic 33.64) while studio-range BT.601 input gives
36.09 dB, so these checkpoints were evidently trained on studio-range YCbCr. srbench therefore feeds
MATLAB `rgb2ycbcr` (the exact matrix the IPP coefficients round; its range is already Y [16, 235],
Cb/Cr [16, 240]) and maps the output back with MATLAB `ycbcr2rgb`. See MODEL_CARD.md.
"""
from __future__ import annotations

import numpy as np

from srbench import matlab
from srbench.methods import register_method
from srbench.methods.base import PUBLISHED
from srbench.methods.base import SROutput
from srbench.methods.pretrained import PretrainedMethod, github_weights

from .arch import ESPCN_ARCH

_REPO, _COMMIT = "Nhat-Thanh/ESPCN-Pytorch", "86370ec715d6e30c7915d4f4a7bb2e46cd56f4de"
_SHA256 = {2: "d3394590387d79949fd557611e3254cc637ff5e0a6b6b7f061f0ce1a6bc11dde",
           3: "55f2222ba9197827f530e67865ef854fbe892fa9a51c96902dde7b7d70e17a05",
           4: "456c2382c157bf064c31f297374564417d9687dd93de47d41dffdb79b527abb1"}


@register_method("espcn")
class ESPCNMethod(PretrainedMethod):
    name = "espcn"
    provenance = PUBLISHED
    description = "ESPCN (Nhat-Thanh PyTorch); studio-range YCbCr 3-channel input, LR input"
    arch = ESPCN_ARCH
    weights = {s: github_weights(_REPO, _COMMIT, f"checkpoint/x{s}/ESPCN-x{s}.pt", sha256=_SHA256[s],
                                 shared_subpath=f"weights/espcn/ESPCN-x{s}.pt",
                                 licence="MIT (Copyright (c) 2022 VuNguyenNhatThanh)")
               for s in (2, 3, 4)}

    def super_resolve(self, lr: np.ndarray, scale: int, image_name: str | None = None) -> SROutput:
        self.check_scale(scale)
        if lr.ndim == 2:
            lr = lr[:, :, None]
        gray = lr.shape[2] == 1
        rgb = np.repeat(lr, 3, axis=2) if gray else lr
        out = matlab.im2uint8(self.run_network(matlab.rgb2ycbcr(rgb).astype(np.float64) / 255.0, scale))
        native_y = out[:, :, 0].astype(np.float64)
        if gray:  # back to the grey scale of the input (a grey image is its own Y), as the base adapter does
            grey = matlab.to_uint8((native_y - 16.0) * 255.0 / 219.0)
            return SROutput(pixels=grey[:, :, None], native_y=grey.astype(np.float64))
        return SROutput(pixels=matlab.ycbcr2rgb(out), native_y=native_y)

    def accepts_double_ycbcr(self) -> bool:
        return True   # these weights take YCbCr: the double YCbCr LR of `--protocol srcnn` is their input

    def super_resolve_ycbcr(self, lr_ycc: np.ndarray, scale: int, image_name: str | None = None) -> SROutput:
        self.check_scale(scale)
        gray = lr_ycc.shape[2] == 1
        ycc = np.concatenate([lr_ycc, np.full(lr_ycc.shape[:2] + (2,), 128.0 / 255.0)], axis=2) if gray else lr_ycc
        out = matlab.im2uint8(self.run_network(ycc, scale))   # rounded once
        native_y = out[:, :, 0].astype(np.float64)
        return SROutput(pixels=out[:, :, :1] if gray else matlab.ycbcr2rgb(out), native_y=native_y)
