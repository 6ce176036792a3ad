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
# Method folders that failed to import: folder -> reason. One broken adapter must not break every command.
BROKEN_METHODS: dict[str, str] = {}
_discovered = False


def register_method(name: str):
    return METHODS.register(name)


def methods_dir() -> Path:
    override = os.environ.get("SRBENCH_METHODS_DIR")
    if override:
        return Path(override)
    from ..bundled import bundled_dir

    return bundled_dir("methods")


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
        for yaml_file in sorted(root.glob("*/method.yaml")):
            if not (yaml_file.parent / "__init__.py").is_file():  # a YAML-only folder describes a checkpoint
                from .generic import register_yaml_method

                try:
                    register_yaml_method(yaml_file)
                except Exception as exc:  # noqa: BLE001
                    BROKEN_METHODS[yaml_file.parent.name] = " ".join(str(exc).split())
                    print(f"srbench: warning: {yaml_file}: {' '.join(str(exc).split())[:200]}", file=sys.stderr)
        for folder in sorted(p for p in root.iterdir() if (p / "__init__.py").is_file()):
            try:
                importlib.import_module(f"srbench_methods.{folder.name}")
            except Exception as exc:  # noqa: BLE001  (any error of a user's adapter code)
                reason = " ".join(str(exc).split()) or type(exc).__name__
                BROKEN_METHODS[folder.name] = f"{type(exc).__name__}: {reason}"
                print(f"srbench: warning: method folder {folder} failed to import ({type(exc).__name__}: "
                      f"{reason[:200]}); its methods are unavailable", file=sys.stderr)
    _discovered = True
    return METHODS


def create_method(name: str, **kwargs) -> SRMethod:
    return discover_methods().create(name, **kwargs)


__all__ = ["BROKEN_METHODS", "METHODS", "InputSpec", "SRMethod", "SROutput", "create_method", "discover_methods",
           "load_state_dict", "methods_dir", "register_method"]
