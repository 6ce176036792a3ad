"""Bad input through the real command line: every kind gets a one-line message naming the file or the name
at fault and the documented exit code, never a traceback.

- Exit 2: the input is refused before any work (unknown names, bad options, bad manifests, checksums).
- Exit 1: a per-item failure (one unreadable image, a method that fails); it is one line on stderr and a
  row of errors.csv, and the rest of the run completes.
- Exit 0: inputs that srbench accepts by a documented conversion (grayscale, palette, opaque alpha).

This module holds the cases and renders docs/bad-inputs.md from the messages actually printed. The doc is
written only by an explicit command, from the repository root:

    python -m tests.bad_inputs_doc          (or: python tests/bad_inputs_doc.py)

`tests/test_bad_inputs.py` runs the same cases, checks each one's contract, and fails when the committed doc
differs from what the cases print today (it never writes the file).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from PIL import Image

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
for _path in (str(REPO), str(TESTS)):  # run as a script or module: the repository and tests/ importable
    if _path not in sys.path:
        sys.path.insert(0, _path)

import bench_fixtures  # noqa: E402
from srbench.cli import main  # noqa: E402
from srbench.datasets import pixel_sha256  # noqa: E402
from srbench.methods.bicubic import Bicubic  # noqa: E402

DOC = REPO / "docs" / "bad-inputs.md"
METRICS = "psnr_y,ssim_y,rmse"


@dataclass
class Case:
    kind: str
    argv: list[str]
    rc: int
    names: list[str]                        # what the message must name
    setup: Callable[[Path], None] | None = None
    good_rows: int | None = None            # rows per_image.csv must still hold (the rest of the run)
    env: dict[str, str] = field(default_factory=dict)


def run_args(ds: str = "Tiny", methods: str = "bicubic", scale: str = "4", metrics: str = METRICS,
             extra: tuple[str, ...] = (), out: str = "{out}") -> list[str]:
    return ["run", "--methods", methods, "--datasets", ds, "--data-root", "{data}", "--scale", scale,
            "--metrics", metrics, "--out", out, "--quiet", "--no-report", *extra]


# ------------------------------------------------------------------------------------------ datasets

def _hr(seed: int = 0, size: tuple[int, int] = (100, 96)) -> np.ndarray:
    return bench_fixtures.hr_pattern(seed, *size)


def mixed(name: str, bad_name: str, write_bad: Callable[[Path], None], count: int = 2):
    """A dataset with one good image (img0.png) and one bad file written by `write_bad`."""
    def setup(tmp: Path) -> None:
        hr_dir = tmp / "data" / name / "HR"
        hr_dir.mkdir(parents=True)
        Image.fromarray(_hr()).save(hr_dir / "img0.png")
        write_bad(hr_dir / bad_name)
        bench_fixtures.write_manifest(tmp / "manifests", name, count)
    return setup


def manifest_text(name: str, text: str):
    def setup(tmp: Path) -> None:
        (tmp / "manifests").mkdir(parents=True, exist_ok=True)
        (tmp / "manifests" / f"{name}.yaml").write_text(text)
    return setup


def recorded(name: str, damage: Callable[[Path], None]):
    """A dataset whose manifest records checksums of img0 and img1; `damage` then alters the files."""
    def setup(tmp: Path) -> None:
        hr_dir = tmp / "data" / name / "HR"
        hr_dir.mkdir(parents=True)
        lines = []
        for k in range(2):
            path = hr_dir / f"img{k}.png"
            Image.fromarray(_hr(k)).save(path)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            lines.append(f"  img{k}:\n    sha256: '{digest}'\n    pixels: '{pixel_sha256(_hr(k))}'\n")
        manifest_text(name, f"name: {name}\nkind: test\ndescription: recorded\nimage_count: 2\n"
                            f"checksums:\n{''.join(lines)}")(tmp)
        damage(hr_dir)
    return setup


def save(arr: np.ndarray, mode: str | None = None, **kw):
    return lambda path: Image.fromarray(arr, mode).save(path, **kw) if mode else Image.fromarray(arr).save(path, **kw)


def truncated(path: Path) -> None:
    Image.fromarray(_hr(1)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def transparent(path: Path) -> None:
    rgba = np.dstack([_hr(1), np.full(_hr(1).shape[:2], 128, np.uint8)])
    Image.fromarray(rgba).save(path)


def opaque_alpha(path: Path) -> None:
    Image.fromarray(np.dstack([_hr(1), np.full(_hr(1).shape[:2], 255, np.uint8)])).save(path)


def palette(path: Path) -> None:
    Image.fromarray(_hr(1)).convert("P", palette=Image.Palette.ADAPTIVE, colors=64).save(path)


def grayscale(path: Path) -> None:
    Image.fromarray(_hr(1)[:, :, 1]).save(path)


def sixteen_bit(path: Path) -> None:
    Image.fromarray((_hr(1)[:, :, 0].astype(np.uint16) * 257)).save(path)


def float_tiff(path: Path) -> None:
    Image.fromarray(_hr(1)[:, :, 0].astype(np.float32) / 255).save(path)


def sixteen_bit_rgb(path: Path) -> None:
    """A 16-bit RGB PNG (Pillow cannot write one; it reads one as 8-bit RGB)."""
    bench_fixtures.write_png16_rgb(path, _hr(1).astype(np.uint16) * 257)


def bomb(path: Path) -> None:
    """A 1x1 PNG whose header claims 30000x30000 pixels (above Pillow's decompression-bomb limit)."""
    import struct
    import zlib

    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    data[16:24] = struct.pack(">II", 30000, 30000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    path.write_bytes(bytes(data))


def bomb_file(tmp: Path) -> None:
    (tmp / "score").mkdir(parents=True, exist_ok=True)
    bomb(tmp / "score" / "bomb.png")


def not_a_checkpoint(tmp: Path) -> None:
    (tmp / "notes.pth").write_text("my notes, not a checkpoint")


class ExitingMethod(Bicubic):
    """A method whose code calls sys.exit (a BaseException that is not KeyboardInterrupt)."""

    name = "exits"

    def super_resolve(self, lr, scale, image_name=None):
        sys.exit(3)


class ColourfulError(Bicubic):
    """A method whose error message carries terminal colour codes, as torch's sometimes do."""

    name = "ansi_error"

    def super_resolve(self, lr, scale, image_name=None):
        raise RuntimeError("\x1b[31mCUDA-style\x1b[0m failure \x1b[1min the network\x1b[0m")


EXTRA_METHODS = (ExitingMethod, ColourfulError)


def bad_checksum_weights(tmp: Path) -> None:
    cache = Path(os.environ["SRBENCH_CACHE"])
    (cache / "weights").mkdir(parents=True, exist_ok=True)
    (cache / "weights" / "bad_checksum.pth").write_bytes(b"some other file")


def score_args(sr: str, hr: str) -> list[str]:
    return ["score", f"{{tmp}}/score/{sr}", "--hr", f"{{tmp}}/score/{hr}", "--scale", "4"]


def score_files(tmp: Path) -> None:
    """score/hr/img0.png, img1.png; score/sr/ holds an SR of img0 only, plus a too-small and a broken one."""
    if (tmp / "score").exists():
        return
    for k in range(2):
        (tmp / "score" / "hr").mkdir(parents=True, exist_ok=True)
        Image.fromarray(_hr(k)).save(tmp / "score" / "hr" / f"img{k}.png")
    (tmp / "score" / "sr").mkdir()
    Image.fromarray(_hr(0)).save(tmp / "score" / "sr" / "img0.png")
    Image.fromarray(_hr(0)[:50, :40]).save(tmp / "score" / "sr" / "small.png")
    truncated(tmp / "score" / "sr" / "broken.png")


def make_file(name: str):
    return lambda tmp: (tmp / name).write_text("not a folder")


CHECKSUMS = ("checksums:\n  ../../outside:\n    sha256: '" + "0" * 64 + "'\n    pixels: '" + "0" * 64 + "'\n")

CASES = [
    # --- names and options: refused before any work, exit 2
    Case("unknown method name", run_args(methods="bicubc"), 2, ["'bicubc'", "did you mean 'bicubic'"]),
    Case("unknown dataset name", run_args(ds="Tiyn"), 2, ["'Tiyn'", "did you mean 'Tiny'"]),
    Case("unknown metric name", run_args(metrics="psnr_y,ssim"), 2, ["'ssim'", "did you mean"]),
    Case("unknown degradation", run_args(extra=("--degradation", "bicubik")), 2, ["'bicubik'", "did you mean"]),
    Case("unknown protocol", run_args(extra=("--protocol", "matlib")), 2, ["'matlib'", "did you mean 'matlab'"]),
    Case("unknown list kind", ["list", "methodz"], 2, ["'methodz'", "did you mean 'methods'"]),
    Case("non-integer scale", run_args(scale="2.5"), 2, ["'2.5'", "not an integer"]),
    Case("scale that is not a number", run_args(scale="x4"), 2, ["'x4'", "not a number"]),
    Case("unsupported scale", run_args(scale="5"), 2, ["scale 5", "supported"]),
    Case("negative border crop", run_args(extra=("--crop-border", "-3")), 2, ["--crop-border -3"]),
    Case("tile smaller than 8 pixels", run_args(extra=("--tile", "2")), 2, ["--tile 2"]),
    Case("'all' mixed with method names", run_args(methods="all,bicubic"), 2, ["'all'"]),
    Case("--out is an existing file", run_args(out="{tmp}/results.txt"), 2, ["results.txt"],
         setup=make_file("results.txt")),
    # --- dataset manifests and checksums: exit 2
    Case("malformed YAML in a dataset manifest", run_args(ds="BadYaml"), 2, ["BadYaml.yaml", "invalid YAML"],
         setup=manifest_text("BadYaml", "name: BadYaml\nkind: [test\n")),
    Case("manifest that is a list, not a mapping", run_args(ds="ListYaml"), 2, ["ListYaml.yaml", "mapping"],
         setup=manifest_text("ListYaml", "- name\n- kind\n")),
    Case("manifest with missing keys", run_args(ds="NoKeys"), 2, ["NoKeys.yaml", "missing key"],
         setup=manifest_text("NoKeys", "name: NoKeys\nkind: test\n")),
    Case("manifest with a non-numeric image count", run_args(ds="BadCount"), 2, ["BadCount.yaml", "image_count"],
         setup=manifest_text("BadCount", "name: BadCount\nkind: test\ndescription: x\nimage_count: many\n"
                                         "checksums: not-recorded\n")),
    Case("manifest folder escaping the data root (../)", run_args(ds="Escape"), 2, ["Escape.yaml", "../../etc"],
         setup=manifest_text("Escape", "name: Escape\nkind: test\ndescription: x\nimage_count: 1\n"
                                       "checksums: not-recorded\nfolder: ../../etc\n")),
    Case("manifest image name escaping the data root", run_args(ds="EscapeImg"), 2,
         ["EscapeImg.yaml", "../../outside"],
         setup=manifest_text("EscapeImg", "name: EscapeImg\nkind: test\ndescription: x\nimage_count: 1\n"
                                          + CHECKSUMS)),
    Case("image that fails its recorded checksum", run_args(ds="Tampered"), 2, ["img1.png", "checksum mismatch"],
         setup=recorded("Tampered", lambda d: Image.fromarray(_hr(5)).save(d / "img1.png"))),
    Case("image missing from a dataset with recorded checksums", run_args(ds="Missing"), 2, ["img1", "missing"],
         setup=recorded("Missing", lambda d: (d / "img1.png").unlink())),
    Case("dataset not found locally, no download possible", run_args(ds="Absent"), 2,
         ["Absent", "cannot be downloaded"], env={"SRBENCH_OFFLINE": "1"},
         setup=manifest_text("Absent", "name: Absent\nkind: test\ndescription: x\nimage_count: 3\n"
                                       "checksums: not-recorded\n")),
    # --- `srbench score` on the user's own SR and HR files: exit 2
    Case("HR/SR size mismatch", score_args("sr/small.png", "hr/img0.png"), 2,
         ["small.png", "does not match HR", "img0.png"], setup=score_files),
    Case("missing SR image", score_args("sr/absent.png", "hr/img0.png"), 2, ["absent.png", "no such"],
         setup=score_files),
    Case("corrupt (truncated) SR image", score_args("sr/broken.png", "hr/img0.png"), 2,
         ["broken.png", "truncated"], setup=score_files),
    Case("SR folder lacking an image of the HR folder", score_args("sr", "hr"), 2, ["img1", "no SR image"],
         setup=score_files),
    Case("SR file given with an HR folder", score_args("sr/small.png", "hr"), 2, ["small.png", "two folders"],
         setup=score_files),
    Case("decompression-bomb PNG given to score", ["score", "{tmp}/score/bomb.png", "--metrics", "niqe_pirm"], 2,
         ["bomb.png", "too many pixels"], setup=bomb_file),
    Case("only metric an unavailable pyiqa metric (pyiqa not installed)", run_args(metrics="pyiqa:bogus"), 2,
         ["no metric can be computed", "pyiqa:bogus"]),
    # --- per-item failures: one line each on stderr and in errors.csv, the rest completes, exit 1
    Case("zero-byte image", run_args(ds="Empty"), 1, ["img1.png", "0 bytes"],
         setup=mixed("Empty", "img1.png", lambda p: p.write_bytes(b"")), good_rows=1),
    Case("truncated PNG", run_args(ds="Truncated"), 1, ["img1.png", "truncated"],
         setup=mixed("Truncated", "img1.png", truncated), good_rows=1),
    Case("text file named .png", run_args(ds="NotImage"), 1, ["img1.png", "not a recognised image format"],
         setup=mixed("NotImage", "img1.png", lambda p: p.write_text("hello")), good_rows=1),
    Case("16-bit PNG (refused, see srbench/imageio.py)", run_args(ds="Deep"), 1, ["img1.png", "bits per sample"],
         setup=mixed("Deep", "img1.png", sixteen_bit), good_rows=1),
    Case("16-bit RGB PNG (refused like 16-bit grey, see srbench/imageio.py)", run_args(ds="DeepRGB"), 1,
         ["img1.png", "RGB image with 16 bits per sample"], setup=mixed("DeepRGB", "img1.png", sixteen_bit_rgb),
         good_rows=1),
    Case("decompression-bomb PNG in a dataset", run_args(ds="Bomb"), 1, ["img1.png", "too many pixels"],
         setup=mixed("Bomb", "img1.png", bomb), good_rows=1),
    Case("32-bit float TIFF", run_args(ds="FloatTiff"), 1, ["img1.tif", "bits per sample"],
         setup=mixed("FloatTiff", "img1.tif", float_tiff), good_rows=1),
    Case("PNG with a transparent alpha channel", run_args(ds="Alpha"), 1, ["img1.png", "alpha"],
         setup=mixed("Alpha", "img1.png", transparent), good_rows=1),
    Case("HR smaller than scale x border crop", run_args(ds="Small"), 1, ["img1.png", "too small"],
         setup=mixed("Small", "img1.png", save(_hr(1, (10, 9)))), good_rows=1),
    Case("image too small for SSIM's 11x11 window after the crop (that metric fails alone)", run_args(ds="SsimSmall"),
         1, ["img1.png", "ssim_y needs at least 11x11"], setup=mixed("SsimSmall", "img1.png", save(_hr(1, (16, 17)))),
         good_rows=2),
    Case("HR smaller than NIQE's 96x96 block (that metric fails alone)",
         run_args(ds="NiqeSmall", metrics="psnr_y,niqe"), 1, ["img1.png", "96x96"],
         setup=mixed("NiqeSmall", "img1.png", save(_hr(1, (64, 64)))), good_rows=2),
    Case("SR output containing NaN", run_args(methods="bicubic,nan_net"), 1, ["nan_net", "NaN"], good_rows=4),
    Case("SR output of the wrong size", run_args(methods="bicubic,wrong_size"), 1,
         ["wrong_size", "size 95x99, expected 96x100"], good_rows=4),
    Case("method raising inside the network", run_args(methods="bicubic,crash_net"), 1,
         ["crash_net", "simulated failure"], good_rows=4),
    Case("weights that do not fit the network", run_args(methods="bicubic,broken_weights"), 1,
         ["broken_weights", "size mismatch for weight"], good_rows=4),
    Case("adapter that fails to construct", run_args(methods="bicubic,broken_init"), 1,
         ["broken_init", "simulated missing dependency"], good_rows=4),
    Case("weights file failing its sha256", run_args(methods="bicubic,bad_checksum"), 1,
         ["bad_checksum.pth", "checksum mismatch"], setup=bad_checksum_weights, good_rows=4),
    Case("weights file that is not a checkpoint", run_args(methods="bicubic,torch:{tmp}/notes.pth",
                                                           extra=("--arch", "MSRResNet")), 1,
         ["notes.pth", "not a PyTorch checkpoint"], setup=not_a_checkpoint, good_rows=4),
    Case("method calling sys.exit", run_args(methods="bicubic,exits"), 1, ["exits", "SystemExit: 3"], good_rows=4),
    Case("error message with terminal colour codes (stripped)", run_args(methods="bicubic,ansi_error"), 1,
         ["ansi_error", "RuntimeError: CUDA-style failure in the network"], good_rows=4),
    # --- accepted by a documented conversion, exit 0
    Case("grayscale HR image (evaluated on its grey values as Y)", run_args(ds="Gray"), 0, [],
         setup=mixed("Gray", "img1.png", grayscale), good_rows=2),
    Case("palette PNG (expanded to RGB)", run_args(ds="Palette"), 0, [],
         setup=mixed("Palette", "img1.png", palette), good_rows=2),
    Case("fully opaque alpha channel (dropped)", run_args(ds="Opaque"), 0, [],
         setup=mixed("Opaque", "img1.png", opaque_alpha), good_rows=2),
    Case("file of an unsupported format (.webp) in HR/", run_args(ds="Webp"), 0, ["Webp", "expects 2"],
         setup=mixed("Webp", "img1.webp", lambda p: p.write_bytes(b"RIFF\0\0\0\0WEBP")), good_rows=1),
    Case("directory named like an image in HR/", run_args(ds="DirImg"), 0, ["DirImg", "expects 2"],
         setup=mixed("DirImg", "img1.png", lambda p: p.mkdir()), good_rows=1),
]


def _shorten(text: str, tmp: Path) -> str:
    return (text.replace(os.environ["SRBENCH_CACHE"], "<cache>").replace(str(tmp), "<tmp>")
            .replace(str(REPO), "<repo>"))


def _run_case(case: Case, tmp: Path, mp) -> dict:
    work = tmp / "work"
    argv = [a.replace("{data}", str(tmp / "data")).replace("{out}", str(work / "out")).replace("{tmp}", str(tmp))
            for a in case.argv]
    for key, value in case.env.items():
        mp.setenv(key, value)
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        try:
            rc = main(argv)
        except BaseException as exc:  # noqa: BLE001 - any escape is a failure of the case
            rc = f"raised {type(exc).__name__}: {exc}"
    for key in case.env:
        mp.delenv(key)
    errors_csv = work / "out" / "errors.csv"
    per_image = work / "out" / "per_image.csv"
    return {"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue(),
            "warnings": [str(w.message).splitlines()[0] for w in caught],
            "errors": pd.read_csv(errors_csv) if case.rc == 1 and errors_csv.is_file() else None,
            "rows": len(pd.read_csv(per_image)) if per_image.is_file() else None}


def _problems(case: Case, result: dict) -> list[str]:
    problems = []
    err_lines = [line for line in result["stderr"].splitlines() if line.strip()]
    everything = result["stdout"] + result["stderr"]
    if "Traceback" in everything:
        problems.append("traceback printed")
    if result["rc"] != case.rc:
        problems.append(f"exit code {result['rc']!r}, expected {case.rc}")
    if case.rc == 2:
        if len(err_lines) != 1 or not err_lines[0].startswith("srbench: error: "):
            problems.append(f"expected one 'srbench: error:' line, got {err_lines}")
        message = " ".join(err_lines)
    elif case.rc == 1:
        bad = [line for line in err_lines if line.startswith("srbench: error: ")]
        if not bad:
            problems.append("no error line on stderr")
        errors = result["errors"]
        if errors is None or len(errors) != len(bad):
            problems.append(f"errors.csv rows {None if errors is None else len(errors)} != {len(bad)} stderr lines")
        message = " ".join(bad)
    else:
        message = " ".join(err_lines + result["warnings"])
    for name in case.names:
        if name not in message:
            problems.append(f"message does not name {name!r}: {message!r}")
    if case.good_rows is not None and result["rows"] != case.good_rows:
        problems.append(f"per_image.csv has {result['rows']} rows, expected {case.good_rows}")
    return problems


def _message(case: Case, result: dict, tmp: Path) -> str:
    err_lines = [line for line in result["stderr"].splitlines() if line.startswith("srbench: ")]
    if case.rc == 0:
        lines = [f"warning: {w}" for w in result["warnings"]] or ["(none: evaluated)"]
    else:
        lines = err_lines[:1]
    return _shorten(" / ".join(lines), tmp)


def _command(case: Case) -> str:
    shown = [a for a in case.argv if a not in ("--quiet", "--no-report")]
    text = "srbench " + " ".join(shown)
    return (text.replace("--data-root {data} ", "").replace(f" --metrics {METRICS}", "")
            .replace(" --out {out}", "").replace("{tmp}", "<tmp>"))


def render(rows: list[tuple[Case, str]]) -> str:
    """The text of docs/bad-inputs.md for the (case, message) rows."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        "# Bad inputs and the messages they get",
        "",
        "Generated by `python -m tests.bad_inputs_doc` (cases in `tests/bad_inputs_doc.py`) from the messages the "
        "command line actually printed; do not edit by hand. `tests/test_bad_inputs.py` fails when this file is "
        "out of date.",
        "Every command also had `--data-root <tmp>/data --out <tmp>/work/out --quiet --no-report` (with "
        "`SRBENCH_CACHE` set to a fresh `<cache>` folder, `SRBENCH_JOBS=1`, pyiqa not installed) and, unless "
        f"shown, `--metrics {METRICS}`. Exit code 2: refused before any work; 1: the item (or one metric of it) "
        "failed, the run completed, one line on stderr and one row in `errors.csv` per failure; 0: accepted by a "
        "documented conversion (see `srbench/imageio.py`).",
        "",
        f"{len(rows)} kinds of bad input.",
        "",
        "| kind of bad input | command | exit code | message |",
        "|---|---|---|---|",
    ]
    for case, message in rows:
        lines.append(f"| {cell(case.kind)} | `{cell(_command(case))}` | {case.rc} | {cell(message)} |")
    return "\n".join(lines) + "\n"


def run_all(tmp_path: Path) -> tuple[list[tuple[Case, str]], list[str]]:
    """Run every case in this process: ((case, message) rows for the doc, contract failures)."""
    import shutil

    import pytest  # only for MonkeyPatch, usable outside a test

    import srbench.methods as methods

    rows, failures = [], []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
        mp.setenv("SRBENCH_OFFLINE", "1")
        mp.setenv("SRBENCH_JOBS", "1")  # the serial executor: stderr lines in plan order, so the doc is stable
        mp.setitem(sys.modules, "pyiqa", None)  # the doc shows srbench without the optional pyiqa
        bench_fixtures.make_dataset(tmp_path, "Tiny", count=4, size=(100, 96))
        for case in CASES:
            if case.setup is not None:
                case.setup(tmp_path)
        bench_fixtures.install(tmp_path / "manifests", mp.setattr, mp.setitem)
        for cls in EXTRA_METHODS:
            mp.setitem(methods.METHODS._items, cls.name, cls)
        for k, case in enumerate(CASES):
            mp.setenv("SRBENCH_CACHE", str(tmp_path / f"cache{k}"))
            if case.setup is bad_checksum_weights:
                case.setup(tmp_path)
            if (tmp_path / "work").exists():
                shutil.rmtree(tmp_path / "work")
            result = _run_case(case, tmp_path, mp)
            problems = _problems(case, result)
            if problems:
                failures.append(f"{case.kind}: {'; '.join(problems)}")
            rows.append((case, _message(case, result, tmp_path)))
    return rows, failures


def main_write() -> int:
    """Regenerate docs/bad-inputs.md (atomically); refuses to write when a case breaks its contract."""
    from srbench.atomic import atomic_write

    with tempfile.TemporaryDirectory() as tmp:
        rows, failures = run_all(Path(tmp).resolve())
        if failures:
            print("not written, cases failing:\n" + "\n".join(failures), file=sys.stderr)
            return 1
        atomic_write(DOC, render(rows).encode("utf-8"))
    print(f"{len(rows)} kinds of bad input, table written to {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main_write())
