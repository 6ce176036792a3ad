"""Read the tensors of a legacy (pre-zip, 2017-era) PyTorch *whole-model* pickle without running it.

Files like twtygqyy's `model_epoch_50.pth` pickle `{"epoch": N, "model": <their Net>}` in Python-2 pickle
protocol 2, which `torch.load(weights_only=True)` cannot read and `weights_only=False` would read by
importing and running the repository's code. This reader allows only a fixed set of globals: the
repository's and torch's module classes become inert records (their pickled `__dict__` is kept, no
method of theirs runs), tensors are rebuilt from the raw storages that follow the pickle, and any other
global (e.g. `os.system`, `builtins.open`) makes the file refused. Only files whose sha256 is known are
given to it; everything else goes through `load_state_dict` (weights_only).
"""
from __future__ import annotations

import pickle
import struct
from collections import OrderedDict
from pathlib import Path

import torch

from ..errors import AssetError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {"FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
                   "LongStorage": torch.int64, "IntStorage": torch.int32, "ByteStorage": torch.uint8}
# Module-class globals allowed as inert records: torch.nn's own, and the model modules of the
# repositories whose whole-model files srbench converts.
_MODULE_PREFIXES = ("torch.nn.modules.",)
_MODEL_MODULES = {"vdsr", "lapsrn"}


class PickledModule:
    """An nn.Module as pickled: only its attribute dict (`_parameters`, `_buffers`, `_modules`, ...)."""


class _StorageType:
    def __init__(self, dtype):
        self.dtype = dtype


class _PickledParameter:
    """A Parameter as pickled: REDUCE(Parameter, (tensor,)) then BUILD(requires_grad, ...), ignored."""

    def __init__(self, tensor):
        self.tensor = tensor

    def __setstate__(self, state):
        pass


def _rebuild_tensor(storage, offset, size, stride):
    return storage.as_strided(tuple(size), tuple(stride), offset)


def _no_backend(*args):
    return None


class _PlainDataUnpickler(pickle.Unpickler):
    """For the header pickles (magic number, protocol version, system info) and the trailing storage-key
    list: plain data only (numbers, strings, lists, dicts). Any global, and any persistent id, refuses the
    file, so no pickle of the file is ever read with the unrestricted `pickle.load`."""

    def __init__(self, fh, path):
        super().__init__(fh, encoding="latin1")
        self.path = path

    def find_class(self, module, name):
        raise AssetError(f"{self.path}: refused, a header pickle references {module}.{name} (legacy model "
                         "file headers hold plain data only)")

    def persistent_load(self, pid):
        raise AssetError(f"{self.path}: refused, a header pickle holds a persistent id")


def _load_plain(fh, path):
    return _PlainDataUnpickler(fh, path).load()


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, fh, path):
        super().__init__(fh, encoding="latin1")
        self.path = path
        self.storages: dict[str, torch.Tensor] = {}

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        if (module, name) == ("torch._utils", "_rebuild_tensor"):
            return _rebuild_tensor
        if (module, name) == ("torch.nn.parameter", "Parameter"):
            return _PickledParameter
        if (module, name) == ("torch.nn.backends.thnn", "_get_thnn_function_backend"):
            return _no_backend
        if module.startswith(_MODULE_PREFIXES) or module in _MODEL_MODULES:
            return PickledModule
        raise AssetError(f"{self.path}: refused, the pickle references {module}.{name}, which is not on the "
                         "allow-list of legacy model files")

    def persistent_load(self, pid):
        kind = pid[0]
        if kind == "module":  # ("module", class, source file, source text): the (inert) class
            return pid[1]
        if kind != "storage":
            raise AssetError(f"{self.path}: refused, unknown persistent id {kind!r}")
        _, storage_type, key, _location, numel, view = pid
        if key not in self.storages:
            self.storages[key] = torch.empty(int(numel), dtype=storage_type.dtype)
        root = self.storages[key]
        if view is not None:
            _view_key, offset, view_numel = view
            return root[int(offset):int(offset) + int(view_numel)]
        return root


def _read_storages(fh, keys, storages, path) -> None:
    """After the pickle: the storage keys, then per storage an int64 element count and the raw bytes."""
    if not isinstance(keys, list) or not all(isinstance(k, str) and k in storages for k in keys):
        raise AssetError(f"{path}: inconsistent storage key list")
    for key in keys:
        target = storages[key]
        head = fh.read(8)
        if len(head) != 8:
            raise AssetError(f"{path}: truncated storage {key}")
        (numel,) = struct.unpack("<q", head)
        nbytes = numel * target.element_size()
        data = fh.read(nbytes)
        if numel != target.numel() or len(data) != nbytes:
            raise AssetError(f"{path}: truncated or inconsistent storage {key}")
        target.copy_(torch.frombuffer(bytearray(data), dtype=target.dtype))


def _module_state(module: PickledModule, prefix: str, out: dict) -> None:
    attrs = module.__dict__
    for name, value in (attrs.get("_parameters") or {}).items():
        if value is not None:
            out[prefix + name] = (value.tensor if isinstance(value, _PickledParameter) else value).clone()
    for name, value in (attrs.get("_buffers") or {}).items():
        if value is not None:
            out[prefix + name] = value.clone()
    for name, child in (attrs.get("_modules") or {}).items():
        if isinstance(child, PickledModule):
            _module_state(child, f"{prefix}{name}.", out)


def state_dict_from_legacy_model(path: str | Path, key: str = "model") -> dict:
    """The state_dict of the module stored under `key` in a legacy whole-model pickle."""
    path = Path(path)
    with open(path, "rb") as fh:
        try:
            if _load_plain(fh, path) != LEGACY_MAGIC:
                raise AssetError(f"{path}: not a legacy PyTorch file")
            _load_plain(fh, path)  # protocol version
            _load_plain(fh, path)  # sys info
            unpickler = _RestrictedUnpickler(fh, path)
            obj = unpickler.load()
            keys = _load_plain(fh, path)
        except AssetError:
            raise
        except Exception as exc:  # any malformed pickle: refuse, naming the file
            raise AssetError(f"{path}: cannot read as a legacy model file ({type(exc).__name__}: {exc})") from None
        _read_storages(fh, keys, unpickler.storages, path)
    module = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(module, PickledModule):
        raise AssetError(f"{path}: no pickled module under '{key}'")
    out: dict = {}
    _module_state(module, "", out)
    return out
