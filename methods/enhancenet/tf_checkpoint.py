"""Read the authors' TensorFlow 1 checkpoint (`weights`, the pre-V2 "tensor slice" format) without
TensorFlow, so the canonical original file can be used directly.

The format is a LevelDB-style sorted table (footer with index/metaindex block handles, prefix-compressed
blocks with restart arrays) whose values are `SavedTensorSlices` protocol buffers: one entry with the
metadata (names, shapes) and one per saved tensor slice (a `TensorProto` with packed `float_val`). Only
what this checkpoint uses is supported: uncompressed blocks, float32, one full slice per variable.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import torch

from srbench.errors import AssetError

TABLE_MAGIC = 0xDB4775248B80FB57
_DT_FLOAT = 1


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes):
    """(field number, wire type, value) of a protobuf message; value is int or bytes."""
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value


def _block_entries(data: bytes, offset: int, size: int):
    """(key, value) pairs of one table block (prefix-compressed keys, restart array at the end)."""
    if data[offset + size] != 0:
        raise ValueError("compressed table blocks are not supported")
    block = data[offset:offset + size]
    (num_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    end = len(block) - 4 * (num_restarts + 1)
    pos, key = 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        value_len, pos = _varint(block, pos)
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        yield key, block[pos:pos + value_len]
        pos += value_len


def _table_values(data: bytes):
    footer = data[-48:]
    if struct.unpack_from("<Q", footer, 40)[0] != TABLE_MAGIC:
        raise ValueError("not a TensorFlow table file")
    pos = 0
    for _ in range(2):  # metaindex handle (unused), then the index handle
        offset, pos = _varint(footer, pos)
        size, pos = _varint(footer, pos)
    for _, handle in _block_entries(data, offset, size):
        block_offset, p = _varint(handle, 0)
        block_size, _ = _varint(handle, p)
        for _, value in _block_entries(data, block_offset, block_size):
            yield value


def _shape(shape_proto: bytes) -> tuple[int, ...]:
    dims = []
    for field, _, dim in _fields(shape_proto):
        if field == 2:
            dims.append(next((v for f, _, v in _fields(dim) if f == 1), 0))
    return tuple(dims)


def _floats(tensor_proto: bytes) -> np.ndarray:
    chunks = []
    for field, wire, value in _fields(tensor_proto):
        if field == 1 and value != _DT_FLOAT:
            raise ValueError(f"only float32 tensors are supported (dtype {value})")
        if field == 5:  # float_val, packed (wire 2) or one value (wire 5)
            chunks.append(np.frombuffer(value, dtype="<f4"))
        elif field == 4:  # tensor_content
            chunks.append(np.frombuffer(value, dtype="<f4"))
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def read_tf1_checkpoint(path: str | Path) -> dict[str, np.ndarray]:
    """{variable name: float32 array} of a TF1 tensor-slice checkpoint."""
    path = Path(path)
    try:
        data = path.read_bytes()
        shapes, values = {}, {}
        for entry in _table_values(data):
            for field, _, msg in _fields(entry):
                if field == 1:  # SavedTensorSliceMeta: repeated SavedSliceMeta tensor = 1
                    for f, _, meta in _fields(msg):
                        if f == 1:
                            parts = {k: v for k, _, v in _fields(meta)}
                            shapes[parts[1].decode()] = _shape(parts.get(2, b""))
                elif field == 2:  # SavedSlice: name = 1, data = 3
                    parts = {k: v for k, _, v in _fields(msg)}
                    values[parts[1].decode()] = _floats(parts.get(3, b""))
        out = {}
        for name, shape in shapes.items():
            flat = values[name]
            if flat.size != int(np.prod(shape)):
                raise ValueError(f"{name}: {flat.size} values for shape {shape} (partitioned variables unsupported)")
            out[name] = flat.reshape(shape)
        return out
    except (ValueError, KeyError, IndexError, struct.error, OSError) as exc:
        raise AssetError(f"{path}: cannot read as a TensorFlow 1 checkpoint ({exc})") from None


def enhancenet_state_from_tf(path: str | Path) -> dict[str, torch.Tensor]:
    """`generator/Conv{,_1,...}/{weights,biases}` (HWIO) -> `conv{i}.weight` (OIHW) / `conv{i}.bias`."""
    state = {}
    for name, array in read_tf1_checkpoint(path).items():
        scope, layer, kind = name.split("/")
        if scope != "generator" or not layer.startswith("Conv"):
            continue
        index = int(layer.split("_")[1]) if "_" in layer else 0
        tensor = torch.from_numpy(np.ascontiguousarray(array.transpose(3, 2, 0, 1) if kind == "weights" else array))
        state[f"conv{index}.{'weight' if kind == 'weights' else 'bias'}"] = tensor
    return state
