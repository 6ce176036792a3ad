"""Weights are verified before use and never unpickled as arbitrary objects."""
from __future__ import annotations

import hashlib
import shutil

import pytest
import torch

from srbench.errors import AssetError, ChecksumError, Unavailable
from srbench.methods import create_method
from srbench.methods.base import load_state_dict
from srbench.methods.generic import create_generic_method


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No shared folder, an empty cache, no downloads."""
    monkeypatch.setenv("SRBENCH_SHARED", str(tmp_path / "shared"))
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    return tmp_path


def _tampered_copy(src, dest):
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    data = bytearray(dest.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one byte
    dest.write_bytes(bytes(data))
    return dest


def test_tampered_shared_weights_refused_naming_the_file(shared, isolated):
    bad = _tampered_copy(shared / "weights/fsrcnn/fsrcnn_x4.pth", isolated / "shared/weights/fsrcnn/fsrcnn_x4.pth")
    with pytest.raises(ChecksumError, match=str(bad)):
        create_method("fsrcnn").prepare(4)


def test_tampered_explicit_weights_refused(shared, isolated):
    bad = _tampered_copy(shared / "weights/vdsr/vdsr.state_dict.pth", isolated / "my_vdsr.pth")
    with pytest.raises(ChecksumError, match="my_vdsr.pth"):
        create_method("vdsr", weights=str(bad)).prepare(2)


def test_untampered_copy_is_accepted(shared, isolated):
    dest = isolated / "shared/weights/fsrcnn/fsrcnn_x2.pth"
    dest.parent.mkdir(parents=True)
    shutil.copyfile(shared / "weights/fsrcnn/fsrcnn_x2.pth", dest)
    method = create_method("fsrcnn")
    net = method.prepare(2)
    # the network carries exactly the file's tensors, and the identity is the file's sha256
    ref = load_state_dict(dest)
    assert set(net.state_dict()) == set(ref)
    assert all(torch.equal(net.state_dict()[k].float(), v.float()) for k, v in ref.items())
    assert method.identity(2).endswith("sha256:" + hashlib.sha256(dest.read_bytes()).hexdigest())


@pytest.mark.parametrize("method,scale", [("srcnn", 4), ("lapsrn", 4), ("enhancenet", 4), ("srgan-pytorch", 4)])
def test_missing_weights_make_the_method_unavailable(isolated, method, scale):
    with pytest.raises(Unavailable, match="weights unavailable") as info:
        create_method(method).prepare(scale)
    assert "not found" in str(info.value)


class _Payload:
    """Unpickling this object would call open(marker, 'w'), creating the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_with_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "EXECUTED"
    evil = tmp_path / "evil.pth"
    torch.save({"model": _Payload(marker), "conv.weight": torch.zeros(1)}, evil)
    with pytest.raises(AssetError, match="evil.pth"):
        load_state_dict(evil)
    method = create_generic_method(f"torch:{evil}", "MSRResNet")
    with pytest.raises(AssetError, match="refused"):
        method.prepare(4)
    assert not marker.exists()


def test_whole_model_pickles_from_the_zoo_are_refused(shared):
    for name in ("vdsr/model_epoch_50.pth", "lapsrn/model_epoch_100.pth"):
        with pytest.raises(AssetError, match="weights_only"):
            load_state_dict(shared / "weights" / name)


def test_converted_state_dicts_load_safely(shared):
    for name in ("vdsr/vdsr.state_dict.pth", "lapsrn/lapsrn_x4.state_dict.pth"):
        state = load_state_dict(shared / "weights" / name)
        assert all(isinstance(v, torch.Tensor) for v in state.values())


# ---- legacy whole-model originals: read by an allow-list unpickler, never executed

def test_legacy_originals_convert_to_the_published_state_dicts(shared):
    from srbench.methods.legacy_pickle import state_dict_from_legacy_model

    for original, converted in (("vdsr/model_epoch_50.pth", "vdsr/vdsr.state_dict.pth"),
                                ("lapsrn/model_epoch_100.pth", "lapsrn/lapsrn_x4.state_dict.pth")):
        ours = state_dict_from_legacy_model(shared / "weights" / original)
        ref = load_state_dict(shared / "weights" / converted)
        assert set(ours) == set(ref)
        assert all(torch.equal(ours[k], ref[k]) for k in ref)


@pytest.mark.parametrize("method,scale,original,converted", [
    ("vdsr", 3, "vdsr/model_epoch_50.pth", "vdsr/vdsr.state_dict.pth"),
    ("enhancenet", 4, "enhancenet/weights", "enhancenet/enhancenet_pat_x4.state_dict.pth")])
def test_method_falls_back_to_the_verified_original(shared, isolated, method, scale, original, converted):
    """Without the converted file the adapter reads the original (pickle / TF checkpoint) safely."""
    dest = isolated / "shared/weights" / original
    dest.parent.mkdir(parents=True)
    shutil.copyfile(shared / "weights" / original, dest)
    net = create_method(method).prepare(scale)
    ref = load_state_dict(shared / "weights" / converted)
    assert all(torch.equal(net.state_dict()[k], v) for k, v in ref.items())
    # Explicitly given, the original is recognised by its digest and gives the same network.
    explicit = create_method(method, weights=str(dest)).prepare(scale)
    assert set(explicit.state_dict()) == set(net.state_dict())
    assert all(torch.equal(explicit.state_dict()[k], v) for k, v in net.state_dict().items())
    _tampered_copy(shared / "weights" / original, dest)
    with pytest.raises(ChecksumError, match=dest.name):
        create_method(method).prepare(scale)


def _legacy_file(path, main_obj):
    """A file in the legacy layout (magic, protocol, sys info, pickle, storage keys) around `main_obj`."""
    import pickle

    from srbench.methods.legacy_pickle import LEGACY_MAGIC

    with open(path, "wb") as fh:
        for part in (LEGACY_MAGIC, 1001, {"little_endian": True}):
            pickle.dump(part, fh, protocol=2)
        pickle.dump(main_obj, fh, protocol=2)
        pickle.dump([], fh, protocol=2)


def test_legacy_reader_refuses_globals_off_its_allow_list(tmp_path):
    from srbench.methods.legacy_pickle import state_dict_from_legacy_model

    marker = tmp_path / "EXECUTED"
    evil = tmp_path / "legacy_evil.pth"
    _legacy_file(evil, {"model": _Payload(marker)})
    with pytest.raises(AssetError, match=r"legacy_evil.pth: refused.*(io|builtins)\.open"):
        state_dict_from_legacy_model(evil)
    assert not marker.exists()
