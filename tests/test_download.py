"""Dataset download: a local HTTP server on 127.0.0.1 serves archives that the tests build.

Checks: zip / tar / tar.gz extraction into the cache, checksum verification of the archive and of every
image, refusal of members escaping the target folder, and that no partial file survives a failure.
"""
from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srbench.datasets import download_dataset, load_manifest, pixel_sha256
from srbench.download import check_member_name, iter_archive_files, safe_extract
from srbench.errors import AssetError, ChecksumError


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        type(self).requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def server(tmp_path):
    """(base URL, folder it serves, list of requested paths)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = type("Handler", (_Handler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            lambda *a, **k: handler(*a, directory=str(root), **k))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root, handler.requests
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("SRBENCH_CACHE", str(root))
    monkeypatch.delenv("SRBENCH_OFFLINE", raising=False)
    return root


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _images(n=3, seed=0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"im{i}": rng.integers(0, 256, (12 + i, 10 + 2 * i, 3), dtype=np.uint8) for i in range(n)}


def _manifest(tmp_path, name, sources, images=None, checksums=True):
    """Write a manifest whose checksums are computed here with hashlib, independently of srbench."""
    lines = [f"name: {name}", "kind: test", "description: a test set", f"image_count: {len(images or _images())}",
             "sources:"]
    for url, fmt, member, sha, *extra in sources:
        lines += [f"  - url: {url}", f"    format: {fmt}", f"    member: '{member}'", f"    sha256: {sha}"]
        lines += [f"    crop: {extra[0]}"] if extra else []
    if checksums:
        lines.append("checksums:")
        for stem, arr in (images or _images()).items():
            header = f"{arr.shape[0]}x{arr.shape[1]}x{arr.shape[2]}:uint8\n".encode()
            pixels = hashlib.sha256(header + arr.tobytes()).hexdigest()
            lines.append(f"  {stem}: {{sha256: {hashlib.sha256(_png(arr)).hexdigest()}, pixels: {pixels}}}")
    else:
        lines.append("checksums: not-recorded")
    path = tmp_path / "manifests" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return load_manifest(path)


def _zip(path: Path, members: dict[str, bytes]) -> str:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tar(path: Path, members: dict[str, bytes], mode="w:gz") -> None:
    with tarfile.open(path, mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".part" in p.name] if root.exists() else []


def test_zip_download_extracts_verifies_and_cleans_up(tmp_path, server, cache):
    base, www, requests = server
    images = _images()
    members = {f"Toy-main/HR images/{stem}.png": _png(arr) for stem, arr in images.items()}
    members["Toy-main/README.txt"] = b"not an image"
    sha = _zip(www / "toy.zip", members)
    manifest = _manifest(tmp_path, "Toy", [(f"{base}/toy.zip", "zip", r"^[^/]+/HR images/(?P<name>im\d)\.png$", sha)],
                         images)
    result = download_dataset(manifest)
    hr = cache / "datasets" / "Toy" / "HR"
    assert sorted(p.name for p in hr.iterdir()) == ["im0.png", "im1.png", "im2.png"]
    for im in result:
        assert im.path.parent == hr
        assert im.path.read_bytes() == members[f"Toy-main/HR images/{im.name}.png"]  # PNG bytes kept as they are
        assert im.sha256 == hashlib.sha256(im.path.read_bytes()).hexdigest()
    assert requests == ["/toy.zip"]
    assert not (cache / "downloads" / "Toy" / "toy.zip").exists()  # the archive is removed after installing
    assert _leftovers(cache) == []


def test_tar_gz_source_with_bmp_members_and_left_half_crop(tmp_path, server, cache):
    base, www, _ = server
    images = _images(2, seed=1)
    members = {}
    for stem, arr in images.items():
        pair = np.concatenate([arr, 255 - arr], axis=1)  # pix2pix layout: photo | label map
        buf = io.BytesIO()
        Image.fromarray(pair).save(buf, format="BMP")
        members[f"pairs/val/{stem}.bmp"] = buf.getvalue()
    _tar(www / "pairs.tar.gz", members)
    manifest = _manifest(tmp_path, "Pairs", [(f"{base}/pairs.tar.gz", "tar.gz", r"^pairs/val/(?P<name>im\d)\.bmp$",
                                              "not-recorded", "left-half")], images)
    result = download_dataset(manifest)
    for im in result:  # re-encoded as PNG, so only the pixel checksum can (and must) match
        np.testing.assert_array_equal(np.asarray(Image.open(im.path)), images[im.name])


def test_corrupted_archive_bytes_give_checksum_error_and_no_files(tmp_path, server, cache):
    base, www, _ = server
    images = _images()
    sha = _zip(www / "toy.zip", {f"t/{s}.png": _png(a) for s, a in images.items()})
    data = bytearray((www / "toy.zip").read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in transit
    (www / "toy.zip").write_bytes(bytes(data))
    manifest = _manifest(tmp_path, "Toy", [(f"{base}/toy.zip", "zip", r"^t/(?P<name>im\d)\.png$", sha)], images)
    with pytest.raises(ChecksumError, match="toy.zip"):
        download_dataset(manifest)
    assert not (cache / "datasets" / "Toy").exists()
    assert list((cache / "downloads").rglob("*.*")) == []
    assert _leftovers(cache) == []


def test_modified_image_gives_checksum_error_naming_it(tmp_path, server, cache):
    base, www, _ = server
    images = _images()
    served = {s: a.copy() for s, a in images.items()}
    served["im1"][3, 4, 0] ^= 1  # a single pixel off by one
    _zip(www / "toy.zip", {f"t/{s}.png": _png(a) for s, a in served.items()})
    manifest = _manifest(tmp_path, "Toy", [(f"{base}/toy.zip", "zip", r"^t/(?P<name>im\d)\.png$", "not-recorded")],
                         images)
    with pytest.raises(ChecksumError, match=r"im1\.png"):
        download_dataset(manifest)
    assert not (cache / "datasets" / "Toy").exists()
    assert list((cache / "downloads").rglob("*.*")) == []
    assert _leftovers(cache) == []


def test_truncated_archive_is_an_asset_error(tmp_path, server, cache):
    base, www, _ = server
    _zip(www / "toy.zip", {f"t/{s}.png": _png(a) for s, a in _images().items()})
    (www / "toy.zip").write_bytes((www / "toy.zip").read_bytes()[:100])
    manifest = _manifest(tmp_path, "Toy", [(f"{base}/toy.zip", "zip", r"^t/(?P<name>im\d)\.png$", "not-recorded")])
    with pytest.raises(AssetError, match="corrupt or unreadable archive"):
        download_dataset(manifest)
    assert not (cache / "datasets" / "Toy").exists()
    assert list((cache / "downloads").rglob("*.*")) == []  # a retry downloads again
    assert _leftovers(cache) == []


def test_missing_url_falls_back_to_the_next_source(tmp_path, server, cache):
    base, www, requests = server
    images = _images()
    _tar(www / "mirror.tar", {f"m/{s}.png": _png(a) for s, a in images.items()}, mode="w")
    member = r"^[^/]+/(?P<name>im\d)\.png$"
    manifest = _manifest(tmp_path, "Toy", [(f"{base}/gone.zip", "zip", member, "not-recorded"),
                                           (f"{base}/mirror.tar", "tar", member, "not-recorded")], images)
    assert [im.name for im in download_dataset(manifest)] == ["im0", "im1", "im2"]
    assert requests == ["/gone.zip", "/mirror.tar"]


def test_every_source_failing_names_them_all(tmp_path, server, cache):
    base, _, _ = server
    manifest = _manifest(tmp_path, "Toy", [(f"{base}/a.zip", "zip", r"(?P<name>x)", "not-recorded"),
                                           (f"{base}/b.zip", "zip", r"(?P<name>x)", "not-recorded")])
    with pytest.raises(AssetError, match=r"a\.zip.*b\.zip"):
        download_dataset(manifest)


def test_offline_makes_no_request(tmp_path, server, cache, monkeypatch):
    base, www, requests = server
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    manifest = _manifest(tmp_path, "Toy", [(f"{base}/toy.zip", "zip", r"(?P<name>x)", "not-recorded")])
    with pytest.raises(AssetError, match="SRBENCH_OFFLINE"):
        download_dataset(manifest)
    assert requests == []


@pytest.mark.parametrize("evil", ["../evil.png", "a/../../evil.png", "/tmp/evil.png", "C:/evil.png", "a\\..\\..\\e"])
def test_members_escaping_the_target_are_refused(tmp_path, evil):
    archive = tmp_path / "evil.zip"
    _zip(archive, {"ok/im0.png": b"x", evil: b"payload"})
    with pytest.raises(AssetError, match="escapes the target folder"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.png").exists()
    assert _leftovers(tmp_path) == []


def test_tar_links_are_refused(tmp_path):
    archive = tmp_path / "links.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        link = tarfile.TarInfo("data/im0.png")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tf.addfile(link)
    with pytest.raises(AssetError, match="link"):
        list(iter_archive_files(archive))


def test_evil_member_in_a_served_archive_writes_nothing(tmp_path, server, cache):
    base, www, _ = server
    images = _images()
    members = {f"t/{s}.png": _png(a) for s, a in images.items()}
    members["t/../../../escaped.png"] = _png(images["im0"])
    _zip(www / "toy.zip", members)
    manifest = _manifest(tmp_path, "Toy", [(f"{base}/toy.zip", "zip", r"(?P<name>im\d)\.png$", "not-recorded")],
                         images)
    with pytest.raises(AssetError, match="escapes"):
        download_dataset(manifest)
    assert not (cache / "datasets" / "Toy").exists()
    assert [p.name for p in tmp_path.rglob("escaped.png")] == []


def test_check_member_name_accepts_plain_relative_paths(tmp_path):
    assert check_member_name(tmp_path, "a/b/c.png").parts == ("a", "b", "c.png")
    assert check_member_name(tmp_path, "a/..b/c.png").parts == ("a", "..b", "c.png")  # '..b' is a name


def test_pixel_sha256_is_the_documented_formula():
    arr = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    assert pixel_sha256(arr) == hashlib.sha256(b"2x4x3:uint8\n" + arr.tobytes()).hexdigest()
    assert pixel_sha256(arr[:, :, 0]) == pixel_sha256(arr[:, :, :1])  # HxW is HxWx1
    assert pixel_sha256(arr) != pixel_sha256(arr.reshape(4, 2, 3))  # same bytes, other shape


def test_blocked_cache_folder_is_an_asset_error(tmp_path, server, cache):
    base, www, _ = server
    images = _images()
    _zip(www / "toy.zip", {f"t/{s}.png": _png(a) for s, a in images.items()})
    (cache / "datasets" / "Toy").mkdir(parents=True)
    (cache / "datasets" / "Toy" / "notes.txt").write_text("the user's own file")
    manifest = _manifest(tmp_path, "Toy", [(f"{base}/toy.zip", "zip", r"^t/(?P<name>im\d)\.png$", "not-recorded")],
                         images)
    with pytest.raises(AssetError, match="cannot install the downloaded images"):
        download_dataset(manifest)
    assert [p.name for p in (cache / "datasets" / "Toy").iterdir()] == ["notes.txt"]
    assert _leftovers(cache) == []
