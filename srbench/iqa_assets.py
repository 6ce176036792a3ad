"""Model-parameter files of the no-reference quality metrics, resolved like any other asset.

Order (see `srbench.assets.Asset.resolve`): explicit path -> `$SRBENCH_SHARED/<shared_subpath>` ->
user cache -> download from the canonical URL. The one exception is the NIQE model (8 KB, freely
redistributable with its notice): it ships as package data in `srbench/iqa_params/` and is looked for
there first, so NIQE works offline out of the box. Ma's model is not shipped.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .assets import Asset

PACKAGED_DIR = Path(__file__).resolve().parent / "iqa_params"


@dataclass
class PackagedAsset(Asset):
    """An asset that srbench ships: the packaged copy comes right after a user's explicit path (it is still
    verified against `sha256`, so a damaged install is an error, not a silent wrong score)."""

    packaged: Path | None = None

    def candidates(self, explicit: str | os.PathLike | None = None) -> list[Path]:
        paths = super().candidates(explicit)
        if self.packaged is not None:
            paths.insert(1 if explicit else 0, self.packaged)
        return paths

# NIQE pristine model (`mu_prisparam` 1x36, `cov_prisparam` 36x36) of the official LIVE release,
# as shipped with the PIRM-2018 scoring code (roimehrez/PIRM2018 utils/niqe_release/modelparameters.mat).
# Source, checksum and the LIVE licence notice: srbench/iqa_params/README.md.
NIQE_MODEL = PackagedAsset(
    name="niqe_modelparameters.mat",
    kind="iqa-params",
    sha256="fa2aa4d12dd9595c3fb6bf8b4e1a15c79d5d1469238d0901c88dead195be578d",
    shared_subpath="iqa-params/niqe_modelparameters.mat",
    urls=["https://raw.githubusercontent.com/roimehrez/PIRM2018/d585552a22b4eb95ddcb23a6edb74a0a3a5d6fbf/"
          "utils/niqe_release/modelparameters.mat"],
    packaged=PACKAGED_DIR / "niqe_modelparameters.mat",
)

# Ma et al.'s trained model (struct `model` with `rf` = three regression forests of the
# randomforest-matlab package and `linear` = 4x1 weights). The canonical file is `model.mat` of
# chaoma99/sr-metric; pyiqa re-publishes the same struct as NRQM_model.mat. No checksum has been
# recorded for either, so the file is used unverified (sha256=None) and the run says so.
MA_MODEL = Asset(
    name="ma_model.mat",
    kind="iqa-params",
    sha256=None,
    shared_subpath="iqa-params/ma_model.mat",
    urls=["https://raw.githubusercontent.com/chaoma99/sr-metric/master/model.mat",
          "https://github.com/chaofengc/IQA-PyTorch/releases/download/v0.1-weights/NRQM_model.mat"],
)

# Users may point at their own copy of Ma's model.mat (e.g. from a MATLAB checkout) with this variable.
MA_MODEL_ENV = "SRBENCH_MA_MODEL"


def ma_model_explicit_path() -> str | None:
    return os.environ.get(MA_MODEL_ENV) or None
