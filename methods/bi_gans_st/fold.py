"""Fold SRResNet's batch-normalisation layers into the preceding convolutions.

An inference-mode BN after a conv is an affine map per channel, so W' = W * g / sqrt(v + eps) and
b' = (b - m) * g / sqrt(v + eps) + beta give a BN-free network with the same outputs. srbench uses it to start
WP-SRGAN (SRResNet without BN) from its trained SRResNet when CPU time does not allow training from scratch.
"""
from __future__ import annotations

import torch

BN_EPS = 1e-5


def fold_batchnorm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """SRResNet state_dict with BN -> state_dict of SRResNet(batch_norm=False)."""
    out = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    bn_prefixes = sorted({k[: -len(".running_mean")] for k in state if k.endswith(".running_mean")})
    for bn in bn_prefixes:
        parent, index = bn.rsplit(".", 1)
        conv = f"{parent}.{int(index) - 1}"
        if f"{conv}.weight" not in out:
            raise ValueError(f"no convolution before batch norm {bn}")
        factor = out[f"{bn}.weight"] / torch.sqrt(out[f"{bn}.running_var"] + BN_EPS)
        out[f"{conv}.weight"] = out[f"{conv}.weight"] * factor.view(-1, 1, 1, 1)
        out[f"{conv}.bias"] = (out[f"{conv}.bias"] - out[f"{bn}.running_mean"]) * factor + out[f"{bn}.bias"]
        for suffix in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            out.pop(f"{bn}.{suffix}", None)
    return out
