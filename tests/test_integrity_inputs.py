"""Issue 14, inputs that must not hurt or mislead: per-metric preconditions, 16-bit colour, decompression
bombs, non-checkpoint weights, legacy-pickle headers, unique SR folder names, plain error text, write errors
naming the file, and the temp-file sweep that removes only srbench's own files."""
from __future__ import annotations

import errno
import types
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import bench_fixtures

from srbench.errors import AssetError, UserError, one_line
from srbench.metrics import EvalContext, EvalImage, create_metric
from srbench.metrics.base import MetricError, evaluate_metric, evaluate_metrics


def _img(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_ssim_on_an_image_smaller_than_its_window_after_the_crop_is_a_metric_error():
    """17x16 at x4: 9x8 after the 4-px crop, below the 11x11 window; ssim_index.m's -Inf is not a score."""
    sr, hr = EvalImage(_img(16, 17, 1)), EvalImage(_img(16, 17, 2))
    ctx = EvalContext.make(4)
    with pytest.raises(MetricError, match=r"ssim_y needs at least 11x11 pixels after the 4-px border crop, got 9x8"):
        create_metric("ssim_y").compute(sr, hr, ctx)
    values, failures = evaluate_metrics([create_metric(n) for n in ("psnr_y", "ssim_y", "rmse")], sr, hr, ctx)
    assert set(values) == {"psnr_y", "rmse"} and all(np.isfinite(v) for v in values.values())
    assert list(failures) == ["ssim_y"] and failures["ssim_y"].startswith("ssim_y needs")


def test_non_finite_metric_values_fail_that_metric_only():
    img = EvalImage(_img(32, 32))
    ctx = EvalContext.make(2)
    with pytest.raises(MetricError, match="psnr_y is inf"):
        evaluate_metric(create_metric("psnr_y"), img, img, ctx)  # identical images: MSE 0
    values, failures = evaluate_metrics([create_metric("psnr_y"), create_metric("rmse")], img, img, ctx)
    assert values == {"rmse": 0.0} and "psnr_y" in failures


def test_16_bit_rgb_png_is_refused_like_16_bit_gray(tmp_path):
    from srbench.imageio import read_image

    arr = (np.arange(4 * 5 * 3).reshape(4, 5, 3) * 997 % 65536).astype(np.uint16)
    bench_fixtures.write_png16_rgb(tmp_path / "deep_rgb.png", arr)
    with Image.open(tmp_path / "deep_rgb.png") as im:  # Pillow would hand back the high bytes as 8-bit RGB
        assert im.mode == "RGB"
    with pytest.raises(UserError, match=r"deep_rgb\.png: RGB image with 16 bits per sample is not supported"):
        read_image(tmp_path / "deep_rgb.png")
    Image.fromarray((arr[:, :, 0]).astype(np.uint16)).save(tmp_path / "deep_gray.png")
    with pytest.raises(UserError, match=r"deep_gray\.png: .* bits per sample is not supported"):
        read_image(tmp_path / "deep_gray.png")
    Image.fromarray((arr >> 8).astype(np.uint8)).save(tmp_path / "ok.png")
    assert read_image(tmp_path / "ok.png").shape == (4, 5, 3)


def test_decompression_bomb_is_a_one_line_error_naming_the_file(tmp_path, capsys):
    from srbench.cli import main
    from srbench.imageio import read_image

    bomb = tmp_path / "bomb.png"
    Image.new("L", (1, 1)).save(bomb)
    data = bytearray(bomb.read_bytes())  # claim 30000x30000 pixels in IHDR (CRC fixed)
    import struct
    import zlib

    data[16:24] = struct.pack(">II", 30000, 30000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    bomb.write_bytes(bytes(data))
    with pytest.raises(UserError, match=r"bomb\.png: refused, too many pixels"):
        read_image(bomb)
    assert main(["score", str(bomb), "--metrics", "niqe_pirm"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "bomb.png" in err[0] and "too many pixels" in err[0], err


@pytest.mark.parametrize("content", [b"", b"hello, not a checkpoint", b"PK\x03\x04broken zip"])
def test_non_checkpoint_weights_file_is_one_line_naming_it(tmp_path, content):
    from srbench.methods.base import load_state_dict

    path = tmp_path / "notes.pth"
    path.write_bytes(content)
    with pytest.raises(AssetError, match=r"notes\.pth: ") as err:
        load_state_dict(path)
    assert "\n" not in str(err.value)


def _legacy_with_header(path, header_obj):
    from srbench.methods.legacy_pickle import LEGACY_MAGIC

    with open(path, "wb") as fh:
        pickle.dump(header_obj, fh, protocol=2)
        for part in (LEGACY_MAGIC, 1001, {"little_endian": True}, {"model": None}, []):
            pickle.dump(part, fh, protocol=2)


class _Evil:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("position", [0, 1, 2, 4])
def test_legacy_reader_header_pickles_are_restricted(tmp_path, position):
    """A crafted global in any of the non-body pickles (magic, protocol, sys info, storage keys) refuses the
    file without running it."""
    from srbench.methods.legacy_pickle import LEGACY_MAGIC, state_dict_from_legacy_model

    marker = tmp_path / "EXECUTED"
    parts = [LEGACY_MAGIC, 1001, {"little_endian": True}, {"model": None}, []]
    parts[position] = _Evil(marker) if position != 2 else {"little_endian": _Evil(marker)}
    path = tmp_path / "crafted.pth"
    with open(path, "wb") as fh:
        for part in parts:
            pickle.dump(part, fh, protocol=2)
    with pytest.raises(AssetError, match=r"crafted\.pth: refused, a header pickle references"):
        state_dict_from_legacy_model(path)
    assert not marker.exists()


def test_sr_folder_names_are_unique_and_safe(tmp_path):
    from srbench.run_layout import safe_component, sr_image_path

    assert safe_component("bicubic") == "bicubic" and safe_component("msfm-gan") == "msfm-gan"
    a, b = safe_component("torch:x/a.pth"), safe_component("torch:x_a.pth")
    assert a != b and a.startswith("torch_x_a.pth-") and b.startswith("torch_x_a.pth-")
    for name in ("..", ".", "", ".hidden", "a/../../b", "x" * 300, "métode"):
        comp = safe_component(name)
        assert comp not in ("", ".", "..") and not comp.startswith(".") and "/" not in comp and len(comp) <= 111
        path = sr_image_path(tmp_path, name, "Set5", 4, "baby")
        assert path.parent.parent.parent.parent == tmp_path / "sr"  # never above sr/
    assert safe_component("..") != safe_component(".") != safe_component("")


def test_error_text_has_no_terminal_escape_codes():
    exc = RuntimeError("\x1b[31mError(s) in loading state_dict\x1b[0m:\n\tsize \x1b[1mmismatch\x1b[0m")
    assert one_line(exc) == "RuntimeError: Error(s) in loading state_dict: size mismatch"


def test_disk_full_names_the_file(tmp_path, monkeypatch):
    from srbench import atomic

    def full(fd, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(atomic.WriteError, match=r"out\.csv: cannot write \(No space left on device\)") as err:
        atomic.atomic_write(tmp_path / "out.csv", b"x")
    assert isinstance(err.value, OSError) and isinstance(err.value, UserError)
    assert list(tmp_path.iterdir()) == []


def test_sweep_removes_only_srbench_temp_names_of_dead_writers(tmp_path):
    from srbench.atomic import sweep_partials

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    ours = [tmp_path / f".per_image.csv.{dead}.ab_c12de.part", tmp_path / "sub" / f".x.png.{dead}.q9w8e7r6.part"]
    live = tmp_path / f".y.png.{os.getpid()}.abcdefgh.part"
    users = [tmp_path / ".thesis.part", tmp_path / ".draft.2024.part", tmp_path / "sub" / ".notes.1.x.part"]
    for p in ours + [live] + users:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x")
        os.utime(p, (0, 0))  # very old: age is no reason to delete a user's file
    assert sorted(sweep_partials(tmp_path)) == sorted(ours)
    assert all(p.exists() for p in users + [live])


def test_truncated_legacy_file_is_one_line_naming_it(tmp_path):
    from srbench.methods.legacy_pickle import LEGACY_MAGIC, state_dict_from_legacy_model

    path = tmp_path / "short.pth"
    with open(path, "wb") as fh:
        for part in (LEGACY_MAGIC, 1001, {"little_endian": True}, {"model": None}, ["k"]):
            pickle.dump(part, fh, protocol=2)
    with pytest.raises(AssetError, match=r"short\.pth: inconsistent storage key list"):
        state_dict_from_legacy_model(path)


def test_pretrained_reader_failure_names_the_weights_file(tmp_path, monkeypatch):
    """A published method's reader meeting a file of another kind (IndexError, EOFError ... inside it)."""
    from srbench.methods.pretrained import PretrainedMethod

    path = tmp_path / "other.bin"
    path.write_bytes(b"\x80\x02")

    class Reader(PretrainedMethod):
        name = "reader"

        def read_state(self, p, scale):
            raise EOFError("Ran out of input")

    method = Reader.__new__(Reader)
    method.weights = {4: types.SimpleNamespace(convert=None)}
    method.weights_override = None
    import srbench.methods.pretrained as pretrained

    monkeypatch.setattr(pretrained, "resolve_weights", lambda wf, name, explicit: (path, False))
    with pytest.raises(AssetError, match=r"other\.bin: cannot read as reader weights \(EOFError: Ran out of input\)"):
        method.build(4)


def test_os_error_while_writing_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    from srbench import cli

    def boom(args):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "report" / "plot.png"))

    monkeypatch.setattr(cli, "build_parser", lambda: types.SimpleNamespace(
        parse_args=lambda argv: types.SimpleNamespace(_run=boom)))
    assert cli.main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"srbench: error: {tmp_path / 'report' / 'plot.png'}: No space left on device"]
