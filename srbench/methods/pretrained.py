"""Adapters for published pretrained checkpoints: an architecture from `srbench.archs` plus one weights
file per scale, resolved as an `Asset` (explicit path -> $SRBENCH_SHARED -> cache -> verified download).

Missing weights make the method `Unavailable` (the run records the reason and goes on); a file whose
sha256 does not match is a `ChecksumError` naming the file, never silently used.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..assets import Asset
from ..errors import AssetError, ChecksumError, Unavailable
from .base import SRMethod, load_state_dict


@dataclass(frozen=True)
class WeightsFile:
    """A weights file and where it comes from.

    asset: what srbench loads (for converted files, `urls` is empty: only the original is downloadable);
    licence: the licence of the original; source: "owner/repo@commit:path" of the original;
    original_url / original_sha256: the canonical original file when `asset` is a format conversion of it.
    """

    asset: Asset
    licence: str
    source: str
    original_url: str | None = None
    original_sha256: str | None = None


def github_raw(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


def github_weights(repo: str, commit: str, path: str, sha256: str, shared_subpath: str, licence: str,
                   cache_name: str | None = None) -> WeightsFile:
    """An original file from a GitHub tree at a commit: found under $SRBENCH_SHARED or downloaded."""
    return WeightsFile(
        asset=Asset(name=cache_name or path.rsplit("/", 1)[-1], kind="weights", sha256=sha256,
                    shared_subpath=shared_subpath, urls=[github_raw(repo, commit, path)]),
        licence=licence, source=f"{repo}@{commit}:{path}")


def converted_weights(repo: str, commit: str, path: str, original_sha256: str, shared_subpath: str,
                      sha256: str, licence: str) -> WeightsFile:
    """A format conversion of an original that torch cannot load safely (a whole-model pickle, a
    TensorFlow checkpoint): only found locally; the original's URL and digest are kept as provenance."""
    return WeightsFile(
        asset=Asset(name=shared_subpath.rsplit("/", 1)[-1], kind="weights", sha256=sha256,
                    shared_subpath=shared_subpath),
        licence=licence, source=f"{repo}@{commit}:{path}", original_url=github_raw(repo, commit, path),
        original_sha256=original_sha256)


def resolve_weights(weights: WeightsFile, method: str, explicit: str | None = None):
    """Verified local path of `weights`; Unavailable (with the reason) if it cannot be found."""
    try:
        return weights.asset.resolve(explicit)
    except ChecksumError:
        raise
    except AssetError as exc:
        hint = f" (original: {weights.original_url})" if weights.original_url else ""
        raise Unavailable(f"{method}: weights unavailable: {exc}{hint}") from None


def load_strict(net: torch.nn.Module, state: dict, path) -> torch.nn.Module:
    """Load every key exactly; a layout mismatch is an AssetError naming the file."""
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise AssetError(f"{path}: does not match the architecture ({' '.join(first[:2])[:300]})") from None
    return net


class PretrainedMethod(SRMethod):
    """Subclasses set `arch` (an ArchSpec), `weights` {scale: WeightsFile} and optionally override
    `read_state(path, scale)` for files that are not torch state_dicts."""

    arch = None
    weights: dict[int, WeightsFile] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.arch is not None:
            cls.input_spec = cls.arch.input_spec
            cls.receptive_field = cls.arch.receptive_field
        if cls.weights and not cls.scales:
            cls.scales = tuple(sorted(cls.weights))

    def arch_for(self, scale: int):
        """The architecture used at `scale` (one unless a method ships different networks per scale)."""
        return self.arch

    def read_state(self, path, scale: int) -> dict:
        return load_state_dict(path)

    def build(self, scale: int):
        wf = self.weights[scale]
        path = resolve_weights(wf, self.name, self.weights_override)
        net = self.arch_for(scale).factory(scale=scale)
        load_strict(net, self.read_state(path, scale), path)
        return net, f"sha256:{wf.asset.sha256}"


__all__ = ["PretrainedMethod", "WeightsFile", "converted_weights", "github_raw", "github_weights", "load_strict",
           "resolve_weights"]
