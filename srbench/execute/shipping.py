"""Sending methods and metrics to worker processes once, not once per item.

`ship(obj)` returns a stand-in that pickles as (token, pickled bytes of obj); unpickling it in a worker
returns that worker's one copy of the object for the token, so a method's network is built once per worker
(on its first item) and reused for every later item, whatever transport (multiprocessing, Dask) carried it.
A method is shipped without the networks the client built (they are rebuilt from the weights on the
worker; the task's identity check refuses a worker whose weights differ).
"""
from __future__ import annotations

import copy
import hashlib
import pickle
import sys
import threading
import types

_objects: dict[str, object] = {}  # token -> this process's copy
_lock = threading.Lock()  # Dask workers may unpickle tasks in several threads


def _method_package() -> None:
    """The package that `methods/<folder>` adapters are imported under (srbench.methods.discover_methods)
    must exist before a method object of one of them can be unpickled; its adapters import on demand."""
    if "srbench_methods" not in sys.modules:
        from ..methods import methods_dir

        package = types.ModuleType("srbench_methods")
        package.__path__ = [str(methods_dir())]
        sys.modules["srbench_methods"] = package


def _materialise(token: str, blob: bytes):
    _method_package()
    with _lock:
        obj = _objects.get(token)
        if obj is None:
            obj = _objects[token] = pickle.loads(blob)
        return obj


class Shipped:
    """Pickles as a reference to one per-process copy of `obj` (see the module docstring)."""

    def __init__(self, obj):
        self.obj = obj
        self.blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        self.token = hashlib.sha256(self.blob).hexdigest()

    def __reduce__(self):
        return _materialise, (self.token, self.blob)


def ship_method(method):
    """A method without its built networks (they can be large), shipped."""
    bare = copy.copy(method)
    if hasattr(bare, "_prepared"):
        bare._prepared = {}
    return Shipped(bare)


def ship(obj):
    return Shipped(obj)


def _context(scale: int, protocol: str, crop_border: int):
    from ..metrics import EvalContext
    from ..protocols import get_protocol

    return EvalContext(scale=scale, crop_border=crop_border, protocol=get_protocol(protocol))


class ShippedContext:
    """An EvalContext travels by its protocol's name (a Protocol holds functions that do not pickle)."""

    def __init__(self, ctx):
        self.args = (ctx.scale, ctx.protocol.name, ctx.crop_border)

    def __reduce__(self):
        return _context, self.args
