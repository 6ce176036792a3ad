"""SRCNN adapter. The x4 weights are read straight from the authors' MATLAB `x4.mat` (so the downloadable
original is what runs); the x3 weights are a plain PyTorch state_dict."""
from __future__ import annotations

import numpy as np
import torch

from srbench.errors import AssetError
from srbench.methods import register_method
from srbench.methods.base import PUBLISHED
from srbench.methods.pretrained import PretrainedMethod, github_weights

from .arch import SRCNN_915_VALID, SRCNN_955

X4_MAT = github_weights(
    "rkatlzkap/SRCNN", "0697a0f05fced3b06ae13902a87377e42d602071", "SRCNN/x4.mat",
    sha256="3f94150d24e5b60dab2b74f4eaf358aefdc72cbe724d86990435bf877ed452ed",
    shared_subpath="weights/srcnn/x4.mat", cache_name="srcnn_x4.mat",
    licence="none stated (redistributed in rkatlzkap/SRCNN; probably the SRCNN authors' released 9-5-5 x4 model)")

X3_PKL = github_weights(
    "chxy95/SRCNN", "b2d43e3d605b751cd6cd0290047f24932d159185", "model/weights.pkl",
    sha256="cb238762b6fa53b7b9c7a8bf867f03ed9b307ea242e0e661daf96b6ac6c7d80a",
    shared_subpath="weights/srcnn/weights.pkl", cache_name="srcnn_915_x3.pkl", licence="MIT (Copyright (c) 2019 XyChen)")


def state_from_matlab(path) -> dict:
    """Convert the SRCNN MATLAB test-package variables to the PyTorch layout.

    The .mat stores filters as columns of flattened kernels in MATLAB (column-major) order, so each is
    reshaped in Fortran order; MATLAB imfilter is correlation, like torch conv2d, so no flipping."""
    from scipy.io import loadmat

    try:
        mat = loadmat(str(path))
        w1, w2, w3 = mat["weights_conv1"], mat["weights_conv2"], mat["weights_conv3"]
        b1, b2, b3 = mat["biases_conv1"], mat["biases_conv2"], mat["biases_conv3"]
    except (KeyError, ValueError, OSError) as exc:
        raise AssetError(f"{path}: not an SRCNN MATLAB model ({exc})") from None
    k1 = int(round(np.sqrt(w1.shape[0])))
    n1 = w1.shape[1]
    n2 = w2.shape[2]
    k2 = int(round(np.sqrt(w2.shape[1])))
    k3 = int(round(np.sqrt(w3.shape[1])))
    conv1 = w1.T.reshape(n1, k1, k1).transpose(0, 2, 1)  # Fortran-order reshape of each column
    conv2 = w2.transpose(2, 0, 1).reshape(n2, n1, k2, k2).transpose(0, 1, 3, 2)
    conv3 = w3.reshape(n2, k3, k3).transpose(0, 2, 1)
    as_t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
    return {"conv1.weight": as_t(conv1[:, None]), "conv1.bias": as_t(b1.reshape(-1)),
            "conv2.weight": as_t(conv2), "conv2.bias": as_t(b2.reshape(-1)),
            "conv3.weight": as_t(conv3[None]), "conv3.bias": as_t(b3.reshape(-1))}


@register_method("srcnn")
class SRCNNMethod(PretrainedMethod):
    name = "srcnn"
    provenance = PUBLISHED
    description = "SRCNN: x4 9-5-5 (authors' MATLAB weights), x3 9-1-5 (chxy95); Y channel, bicubic-upsampled input"
    arch = SRCNN_955
    weights = {3: X3_PKL, 4: X4_MAT}

    def arch_for(self, scale: int):
        return SRCNN_955 if scale == 4 else SRCNN_915_VALID

    def read_state(self, path, scale: int) -> dict:
        return state_from_matlab(path) if scale == 4 else super().read_state(path, scale)
