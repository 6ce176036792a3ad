"""Methods registry. Method adapters live one per folder under the repository's `methods/` directory
and register themselves on import (as BasicSR's ARCH_REGISTRY); `discover_methods` imports them."""
from __future__ import annotations

import importlib
import os
import sys
import types
from pathlib import Path

from ..registry import Registry
from .base import InputSpec, SRMethod, SROutput, load_state_dict

METHODS: Registry[SRMethod] = Registry("method")
_discovered = False


def register_method(name: str):
    return METHODS.register(name)


def methods_dir() -> Path:
    override = os.environ.get("SRBENCH_METHODS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "methods"


def discover_methods() -> Registry[SRMethod]:
    """Import every `methods/<folder>/__init__.py` as package `srbench_methods.<folder>`."""
    global _discovered
    if _discovered:
        return METHODS
    from . import bicubic  # noqa: F401  (the built-in baseline)

    root = methods_dir()
    if "srbench_methods" not in sys.modules:
        pkg = types.ModuleType("srbench_methods")
        pkg.__path__ = [str(root)]
        sys.modules["srbench_methods"] = pkg
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if (p / "__init__.py").is_file()):
            importlib.import_module(f"srbench_methods.{folder.name}")
    _discovered = True
    return METHODS


def create_method(name: str, **kwargs) -> SRMethod:
    return discover_methods().create(name, **kwargs)


__all__ = ["METHODS", "InputSpec", "SRMethod", "SROutput", "create_method", "discover_methods",
           "load_state_dict", "methods_dir", "register_method"]
