"""Adapters for published pretrained checkpoints: an architecture from `srbench.archs` plus one weights
file per scale, resolved as an `Asset` (explicit path -> $SRBENCH_SHARED -> cache -> verified download).

Missing weights make the method `Unavailable` (the run records the reason and goes on); a file whose
sha256 does not match is a `ChecksumError` naming the file, never silently used. An explicit `weights`
path holding the published file (or its original) is another location of it; any other file is a user's
checkpoint of the same architecture (`srbench run --methods NAME --weights PATH`): provenance "user
checkpoint", identified by its own sha256, loaded into the method's architecture at that scale.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from ..assets import Asset, sha256_file
from ..errors import AssetError, ChecksumError, SrbenchError, Unavailable
from .base import PUBLISHED, USER, SRMethod, load_state_dict


@dataclass(frozen=True)
class WeightsFile:
    """A weights file and where it comes from.

    asset: what srbench loads (for converted files, `urls` is empty: only the original is downloadable);
    licence: the licence of the original; source: "owner/repo@commit:path" of the original;
    original_url / original_sha256: the canonical original file when `asset` is a format conversion of it;
    original / convert: where that original can be found or downloaded, and a safe converter from it to
    the state_dict (None where srbench cannot read the original format).
    """

    asset: Asset
    licence: str
    source: str
    original_url: str | None = None
    original_sha256: str | None = None
    original: Asset | None = None
    convert: Callable[[Path], dict] | None = None


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
                      sha256: str, licence: str, original_subpath: str | None = None,
                      convert: Callable[[Path], dict] | None = None) -> WeightsFile:
    """A format conversion of an original that torch cannot load safely (a whole-model pickle, a
    TensorFlow checkpoint). The converted file is used when present; otherwise, given `convert`, the
    original is found (`original_subpath` under $SRBENCH_SHARED, the cache) or downloaded, verified, and
    converted in memory."""
    url = github_raw(repo, commit, path)
    original = Asset(name=f"{repo.replace('/', '_')}_{path.rsplit('/', 1)[-1]}", kind="weights",
                     sha256=original_sha256, shared_subpath=original_subpath, urls=[url])
    return WeightsFile(
        asset=Asset(name=shared_subpath.rsplit("/", 1)[-1], kind="weights", sha256=sha256,
                    shared_subpath=shared_subpath),
        licence=licence, source=f"{repo}@{commit}:{path}", original_url=url, original_sha256=original_sha256,
        original=original if convert else None, convert=convert)


def resolve_weights(weights: WeightsFile, method: str, explicit: str | None = None) -> tuple[Path, bool]:
    """(verified local path, whether it is the original to convert); Unavailable (with the reason) if
    neither the file nor a convertible original can be found."""
    if explicit and weights.original and Path(explicit).is_file() and \
            sha256_file(Path(explicit)) == weights.original.sha256:
        return Path(explicit), True
    try:
        return weights.asset.resolve(explicit), False
    except ChecksumError:
        raise
    except AssetError as exc:
        reason = str(exc)
    if weights.original is not None and not explicit:
        try:
            return weights.original.resolve(), True
        except ChecksumError:
            raise
        except AssetError as exc:
            reason += f"; original: {exc}"
    elif weights.original_url:
        reason += f" (original: {weights.original_url}, not convertible here)"
    raise Unavailable(f"{method}: weights unavailable: {reason}")


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
    provenance = PUBLISHED

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.weights_override:
            self.provenance = PUBLISHED if self._is_published_file(Path(self.weights_override).expanduser()) else USER

    def _is_published_file(self, path: Path) -> bool:
        if not path.is_file():
            return False
        known = {h for wf in self.weights.values() for h in (wf.asset.sha256, wf.original_sha256) if h}
        return sha256_file(path) in known

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
        if self.provenance == USER:
            return self.build_user_checkpoint(scale)
        wf = self.weights[scale]
        path, is_original = resolve_weights(wf, self.name, self.weights_override)
        try:
            state = wf.convert(path) if is_original else self.read_state(path, scale)
        except SrbenchError:
            raise
        except Exception as exc:  # a reader meeting a file of another kind: one line naming the file
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            raise AssetError(f"{path}: cannot read as {self.name} weights ({type(exc).__name__}"
                             f"{': ' + first if first else ''})") from None
        net = self.arch_for(scale).factory(scale=scale)
        load_strict(net, state, path)
        # The converted file and its original hold the same tensors: one identity for both.
        return net, f"sha256:{wf.asset.sha256}"

    def build_user_checkpoint(self, scale: int):
        """A user's state_dict of this method's architecture at `scale` (fp16 is cast back to fp32)."""
        from .generic import unwrap_state

        path = Path(self.weights_override).expanduser()
        state = unwrap_state(load_state_dict(path))
        arch = self.arch_for(scale)
        if arch.convert_state is not None:
            state = arch.convert_state(state)
        state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
        net = load_strict(arch.factory(scale=scale), state, path)
        return net, f"sha256:{sha256_file(path)}"


__all__ = ["PretrainedMethod", "WeightsFile", "converted_weights", "github_raw", "github_weights", "load_strict",
           "resolve_weights"]
