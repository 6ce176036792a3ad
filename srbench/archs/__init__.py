"""Architecture registry: network definitions that checkpoints can be loaded into.

An `ArchSpec` says how to build a network for a scale and what input the network expects (an
`InputSpec`), so the generic adapter (`srbench.methods.generic`) can benchmark any checkpoint of a
registered architecture. The built-in entries are BasicSR-style `RRDBNet` (ESRGAN) and `MSRResNet`;
method folders under `methods/` register their own architectures here when they are imported.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from ..methods.base import InputSpec
from ..errors import UserError
from ..registry import Registry


@dataclass(frozen=True)
class ArchSpec:
    """name: registry key; factory(scale, **options) -> nn.Module; input_spec: what the net consumes;
    receptive_field: radius in input pixels (tile overlap); scales: supported scales (empty = any);
    convert_state: optional key remapping from other published layouts to this one;
    infer_options: optional sizes (block count, widths) read off a state_dict's shapes."""

    name: str
    factory: Callable[..., torch.nn.Module]
    input_spec: InputSpec = InputSpec()
    receptive_field: int = 16
    scales: tuple[int, ...] = ()
    description: str = ""
    convert_state: Callable[[dict], dict] | None = field(default=None)
    infer_options: Callable[[dict], dict] | None = field(default=None)

    def __reduce__(self):
        # Specs hold lambdas, which do not pickle: a spec travels to --jobs / Dask workers by its name and is
        # looked up in the worker's own registry (built the same way, from the same method folders).
        return get_arch, (self.name,)


def count_blocks(state: dict, prefix: str) -> int:
    """Number of distinct `prefix<N>.` indices among the keys (e.g. prefix "body.")."""
    return len({k[len(prefix):].split(".", 1)[0] for k in state if k.startswith(prefix)})


ARCHS: Registry[ArchSpec] = Registry("architecture")


def register_arch(spec: ArchSpec) -> ArchSpec:
    ARCHS.register(spec.name, lambda: spec)
    return spec


def get_arch(name: str) -> ArchSpec:
    """The spec of a registered architecture (method folders are discovered first, they add theirs)."""
    from ..methods import discover_methods

    methods = discover_methods()
    _register_builtins()
    if name not in ARCHS and name in methods:
        raise UserError(f"'{name}' is a method, not an architecture: benchmark its checkpoint with "
                        f"--methods {name} --weights PATH (or torch:PATH --arch {name})")
    return ARCHS.create(name)


_builtins_done = False


def _register_builtins() -> None:
    global _builtins_done
    if not _builtins_done:
        from . import msrresnet, rrdbnet  # noqa: F401  (register on import)
        _builtins_done = True


__all__ = ["ARCHS", "ArchSpec", "count_blocks", "get_arch", "register_arch"]
