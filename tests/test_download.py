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


def _manifest(tmp_path, name, sources, images=None, checksums=True, members=None):
    """Write a manifest whose checksums are computed here with hashlib, independently of srbench.
    `members` ({image: member bytes}) records per-source member digests."""
    lines = [f"name: {name}", "kind: test", "description: a test set", f"image_count: {len(images or _images())}",
             "sources:"]
    for url, fmt, member, sha, *extra in sources:
        lines += [f"  - url: {url}", f"    format: {fmt}", f"    member: '{member}'", f"    sha256: {sha}"]
        lines += [f"    crop: {extra[0]}"] if extra else []
        if members:
            lines.append("    members:")
            lines += [f"      {stem}: {hashlib.sha256(data).hexdigest()}" for stem, data in members.items()]
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
                                              "not-recorded", "left-half")], images,
                         members={k[len("pairs/val/"):-4]: v for k, v in members.items()})
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


# ---- verification before decoding, transport, size caps, temp clean-up (issue 14)

def _bmp(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="BMP")
    return buf.getvalue()


@pytest.fixture
def decode_spy(monkeypatch):
    """Every image decode of the dataset installer, recorded."""
    import srbench.datasets as datasets

    seen = []
    real = datasets.read_image

    def spy(path):
        seen.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(datasets, "read_image", spy)
    return seen


def test_members_with_unrecorded_bytes_are_not_decoded(tmp_path, server, cache, decode_spy, monkeypatch):
    """Pixel checksums only (the archive holds BMP originals of recorded PNGs): refused before any decode;
    with SRBENCH_ALLOW_UNVERIFIED_DOWNLOADS=1 they are decoded and checked by their pixels."""
    base, www, _ = server
    images = _images(2, seed=4)
    _tar(www / "bmp.tar.gz", {f"b/{s}.bmp": _bmp(a) for s, a in images.items()})
    manifest = _manifest(tmp_path, "Bmp", [(f"{base}/bmp.tar.gz", "tar.gz", r"^b/(?P<name>im\d)\.bmp$",
                                            "not-recorded")], images)
    with pytest.raises(ChecksumError, match=r"b/im0\.bmp.*not decoded.*SRBENCH_ALLOW_UNVERIFIED_DOWNLOADS"):
        download_dataset(manifest)
    assert decode_spy == [] and not (cache / "datasets" / "Bmp").exists()
    monkeypatch.setenv("SRBENCH_ALLOW_UNVERIFIED_DOWNLOADS", "1")
    with pytest.warns(UserWarning, match="not recorded"):
        result = download_dataset(manifest)
    assert [im.name for im in result] == ["im0", "im1"] and decode_spy


def test_recorded_member_digest_mismatch_is_refused_even_with_the_opt_in(tmp_path, server, cache, decode_spy,
                                                                         monkeypatch):
    base, www, _ = server
    images = _images(2, seed=5)
    good = {s: _bmp(a) for s, a in images.items()}
    served = dict(good, im1=_bmp(255 - images["im1"]))
    _tar(www / "m.tar.gz", {f"b/{s}.bmp": d for s, d in served.items()})
    manifest = _manifest(tmp_path, "Mem", [(f"{base}/m.tar.gz", "tar.gz", r"^b/(?P<name>im\d)\.bmp$",
                                            "not-recorded")], images, members=good)
    monkeypatch.setenv("SRBENCH_ALLOW_UNVERIFIED_DOWNLOADS", "1")
    with pytest.raises(ChecksumError, match=r"b/im1\.bmp.*checksum mismatch.*not decoded"):
        download_dataset(manifest)
    assert decode_spy == []


def test_dataset_without_any_digest_is_refused_unless_opted_in(tmp_path, server, cache, decode_spy, monkeypatch):
    base, www, _ = server
    images = _images(2, seed=6)
    _zip(www / "n.zip", {f"t/{s}.png": _png(a) for s, a in images.items()})
    manifest = _manifest(tmp_path, "NoSums", [(f"{base}/n.zip", "zip", r"^t/(?P<name>im\d)\.png$", "not-recorded")],
                         images, checksums=False)
    with pytest.raises(ChecksumError, match="no sha256 recorded"):
        download_dataset(manifest)
    assert decode_spy == []
    monkeypatch.setenv("SRBENCH_ALLOW_UNVERIFIED_DOWNLOADS", "1")
    with pytest.warns(UserWarning):
        assert len(download_dataset(manifest)) == 2


@pytest.mark.parametrize("url, ok", [("http://example.org/a.zip", False), ("ftp://example.org/a.zip", False),
                                     ("https://example.org/a.zip", True), ("http://127.0.0.1:8000/a.zip", True)])
def test_plain_http_sources_are_refused(tmp_path, url, ok):
    from srbench.errors import UserError

    if ok:
        assert _manifest(tmp_path, "Web", [(url, "zip", r"(?P<name>x)", "not-recorded")]).sources[0].url == url
    else:
        with pytest.raises(UserError, match="not https"):
            _manifest(tmp_path, "Web", [(url, "zip", r"(?P<name>x)", "not-recorded")])


def test_shipped_sources_are_https():
    from srbench.datasets import MANIFEST_DIR

    for path in MANIFEST_DIR.glob("*.yaml"):
        assert all(s.url.startswith("https://") for s in load_manifest(path).sources), path


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_member_over_the_size_cap_is_refused_while_streaming(tmp_path, fmt):
    """A highly compressible member (a zip bomb's shape) stops at the cap; nothing is left behind."""
    archive = tmp_path / f"bomb.{fmt}"
    data = bytes(8 << 20)  # 8 MB of zeros: a few kB compressed
    if fmt == "zip":
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("b/im0.png", data)
    else:
        _tar(archive, {"b/im0.png": data})
    assert archive.stat().st_size < 200_000
    with pytest.raises(AssetError, match=r"im0\.png.*larger than the 1048576 bytes allowed"):
        safe_extract(archive, tmp_path / "out", max_member=1 << 20)
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []
    with pytest.raises(AssetError, match="larger than"):
        safe_extract(archive, tmp_path / "out", max_total=1 << 20)


def test_members_are_streamed_not_read_whole(tmp_path, monkeypatch):
    """No read of the whole member: every read asks for at most one chunk."""
    import srbench.download as download

    archive = tmp_path / "a.zip"
    _zip(archive, {"t/im0.png": bytes(3 << 20)})
    sizes = []
    real = download.copy_capped

    def spy(src, dest, cap, what):
        orig = src.read
        src.read = lambda n=-1: (sizes.append(n), orig(n))[1]
        return real(src, dest, cap, what)

    monkeypatch.setattr(download, "copy_capped", spy)
    digests = {}
    [path] = safe_extract(archive, tmp_path / "out", digests=digests)
    assert sizes and all(0 < n <= (1 << 20) + 1 for n in sizes)
    assert digests[path] == hashlib.sha256(bytes(3 << 20)).hexdigest()


def test_killed_download_temps_are_swept_user_parts_kept(tmp_path, server, cache, monkeypatch):
    """`.<name>.<dead pid>.<random>.part` folders of killed downloads go (on the next download and on
    `srbench cache clear`); a user's own `.thesis.part` stays."""
    import subprocess
    import sys

    from srbench.cli import main

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    killed = [cache / "datasets" / f".Toy.{dead}.k3x_9abq.part", cache / "downloads" / "Toy" / f".toy.zip.{dead}.zz1_ab2c.part",
              cache / "weights" / f".w.pth.{dead}.abcdefgh.part"]
    for path in killed:
        path.mkdir(parents=True)
        (path / "junk.png").write_bytes(b"x" * 100)
    mine = cache / "datasets" / ".thesis.part"
    mine.mkdir()
    base, www, _ = server
    images = _images()
    _zip(www / "toy.zip", {f"t/{s}.png": _png(a) for s, a in images.items()})
    manifest = _manifest(tmp_path, "Toy", [(f"{base}/toy.zip", "zip", r"^t/(?P<name>im\d)\.png$", "not-recorded")],
                         images)
    download_dataset(manifest)
    assert not any(p.exists() for p in killed[:2]) and mine.is_dir()
    killed[0].mkdir()
    assert main(["cache", "clear"]) == 0
    assert not any(p.exists() for p in killed) and mine.is_dir()


def test_list_datasets_says_how_each_is_verified(capsys):
    from srbench.cli import main

    assert main(["list", "datasets"]) == 0
    out = capsys.readouterr().out
    blocks = {}
    name = None
    for line in out.splitlines():
        if not line.startswith(" "):
            name = line.split()[0]
        elif "verified:" in line:
            blocks[name] = line
    assert set(blocks) >= {"Set5", "DIV2K-val", "default"}
    assert "file or pixel sha256" in blocks["Set5"] and "UNVERIFIED" in blocks["DIV2K-val"]
