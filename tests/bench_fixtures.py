"""Small, self-contained benchmark inputs for the reliability tests: a tiny dataset with its manifest, a
cheap deterministic network method (always available, no weights to fetch), and methods that misbehave
on purpose (NaN output, wrong output size, a crash, broken weights).

`install(...)` registers them in the running process: the tiny dataset's manifest folder replaces the
repository's `datasets/`, and the methods registry holds only `bicubic` plus these, so the tests neither
depend on nor load the real method zoo.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from srbench import matlab
from srbench.assets import Asset
from srbench.imageio import write_png_atomic
from srbench.methods.base import InputSpec, SRMethod


def hr_pattern(seed: int, height: int, width: int) -> np.ndarray:
    """Smooth colour gradients plus mild noise: bicubic loses detail, so metrics are not degenerate."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([np.sin(7 * xx + seed), np.cos(6 * yy - seed), np.sin(5 * (xx + yy))], axis=2)
    return matlab.to_uint8((base + rng.normal(0, 0.2, (height, width, 1)) + 1.5) * 70)


def write_png16_rgb(path: Path, arr16: np.ndarray) -> None:
    """A 16-bit RGB PNG written by hand (Pillow cannot write one): IHDR bit depth 16, colour type 2."""
    import struct
    import zlib

    h, w, _ = arr16.shape
    raw = b"".join(b"\0" + arr16[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def write_manifest(manifest_dir: Path, name: str, count: int, extra: str = "") -> Path:
    manifest_dir.mkdir(parents=True, exist_ok=True)
    path = manifest_dir / f"{name}.yaml"
    path.write_text(f"name: {name}\nkind: test\ndescription: tiny test set\nimage_count: {count}\n"
                    f"checksums: not-recorded\n{extra}")
    return path


def make_dataset(root: Path, name: str = "Tiny", count: int = 4, size: tuple[int, int] = (100, 96)) -> Path:
    """`root/data/<name>/HR/*.png` and `root/manifests/<name>.yaml`; returns the data root."""
    for k in range(count):
        write_png_atomic(root / "data" / name / "HR" / f"img{k}.png", hr_pattern(k, *size))
    write_manifest(root / "manifests", name, count)
    return root / "data"


# ------------------------------------------------------------------------------------------ methods

class _Residual(torch.nn.Module):
    def __init__(self, body: torch.nn.Module):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


class TinyNet(SRMethod):
    """A 2-layer CNN with seeded random weights on the bicubic-upsampled Y: a real network path
    (Y conversion, native Y, caching of the Y plane) that always exists and runs in milliseconds."""

    name = "tinynet"
    scales = (2, 3, 4, 8)
    input_spec = InputSpec(channels="y", value_range=1.0, pre_upsample=True)
    receptive_field = 2
    description = "test-only seeded random CNN"

    def build(self, scale):
        gen = torch.Generator().manual_seed(1000 + scale)
        body = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
                                   torch.nn.Conv2d(8, 1, 3, padding=1))
        with torch.no_grad():
            for p in body.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * 0.05)
        return _Residual(body), "seeded-random-v1"


class NaNNet(TinyNet):
    name = "nan_net"

    def forward(self, net, x, scale):
        return net(x) * float("nan")


class WrongSizeNet(TinyNet):
    name = "wrong_size"
    input_spec = InputSpec(channels="rgb", value_range=1.0, pre_upsample=True)

    def build(self, scale):
        return None, "crop-by-one"

    def forward(self, net, x, scale):
        return x[:, :, :-1, :-1]  # one pixel short in each direction


class CrashNet(TinyNet):
    name = "crash_net"

    def forward(self, net, x, scale):
        raise RuntimeError("simulated failure inside the network")


class BrokenWeights(TinyNet):
    name = "broken_weights"

    def build(self, scale):
        body = torch.nn.Conv2d(1, 1, 3, padding=1)
        body.load_state_dict({"weight": torch.zeros(8, 1, 3, 3), "bias": torch.zeros(8)})
        return body, "never"


class BadChecksumWeights(TinyNet):
    """Weights resolved through `Asset`: a file in the cache whose sha256 is not the recorded one."""

    name = "bad_checksum"
    ASSET = Asset("bad_checksum.pth", "weights", sha256=hashlib.sha256(b"the published weights").hexdigest())

    def build(self, scale):
        self.ASSET.resolve(allow_download=False)
        return super().build(scale)


class BrokenInit(TinyNet):
    name = "broken_init"

    def __init__(self, **kwargs):
        raise ImportError("simulated missing dependency of the adapter")


TEST_METHODS = (TinyNet, NaNNet, WrongSizeNet, CrashNet, BrokenWeights, BadChecksumWeights, BrokenInit)


def install(manifest_dir: Path, set_attr, set_item) -> None:
    """Register the test dataset manifests and methods; `set_attr`/`set_item` are monkeypatch's (or plain
    setattr/setitem in a process that is thrown away afterwards)."""
    import srbench.datasets as datasets
    import srbench.methods as methods
    from srbench.methods import bicubic

    set_attr(datasets, "MANIFEST_DIR", Path(manifest_dir))
    for path in sorted(Path(manifest_dir).glob("*.yaml")):
        set_item(datasets.DATASETS._items, path.stem,
                 lambda data_root=None, n=path.stem: datasets.resolve_dataset(n, data_root))
    set_attr(methods, "_discovered", True)  # keep the real zoo out: only bicubic and the test methods
    items = {"bicubic": bicubic.Bicubic}
    items.update({cls.name: cls for cls in TEST_METHODS})
    set_attr(methods.METHODS, "_items", items)


def install_plain(manifest_dir: Path) -> None:
    import operator

    install(manifest_dir, setattr, operator.setitem)
