"""Dataset registry: shipped manifests, resolution order, checksum verification, the embedded default set."""
from __future__ import annotations

import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

import srbench.datasets as ds_mod
from srbench import embedded
from srbench.datasets import (DATASETS, MANIFEST_DIR, dataset_checksums, list_datasets, load_manifest,
                              pixel_sha256, resolve_dataset)
from srbench.errors import AssetError, ChecksumError, UserError

EXPECTED = {  # name -> (kind, image count); the counts are the ones the papers describe
    "Set5": ("test", 5), "Set14": ("test", 14), "BSD100": ("test", 100), "Urban100": ("test", 100),
    "Manga109": ("test", 109), "PIRM-val": ("test", 100), "DIV2K-val": ("test", 100), "Facades": ("test", 100),
    "T91": ("train", 91), "General100": ("train", 100), "default": ("test", 5),
}
RECORDED = ["Set5", "Set14", "BSD100", "Urban100", "T91", "General100"]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test reads the real user cache, SRBENCH_DATA or the network."""
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    monkeypatch.delenv("SRBENCH_DATA", raising=False)


def _copy_set(src_root: Path, name: str, dest_root: Path) -> Path:
    shutil.copytree(src_root / name / "HR", dest_root / name / "HR")
    return dest_root / name / "HR"


def _sha256sums(folder: Path) -> dict[str, str]:
    rows = (line.split(None, 1) for line in (folder / "SHA256SUMS").read_text().splitlines() if line.strip())
    return {Path(rel.strip()).stem: digest for digest, rel in rows}


# ------------------------------------------------------------------------------------------- manifests

def test_registry_holds_exactly_the_issue_datasets():
    assert sorted(DATASETS.names()) == sorted(EXPECTED)
    rows = {name: (kind, count) for name, kind, count, _ in list_datasets()}
    assert rows == EXPECTED
    assert all(desc for *_, desc in list_datasets())


def test_shipped_manifests_are_valid():
    for path in sorted(MANIFEST_DIR.glob("*.yaml")):
        m = load_manifest(path)
        assert m.folder == m.name
        if m.name in RECORDED:
            assert m.checksums is not None and len(m.checksums) == m.image_count
            assert m.sources, f"{m.name}: a dataset with recorded checksums needs a download source"
        elif m.name == "Facades":   # recorded; built from CMP's originals under a data root (tests/test_facades.py)
            assert m.checksums is not None and len(m.checksums) == m.image_count and not m.sources
        else:
            assert m.checksums is None  # not recorded rather than invented
        for src in m.sources:
            assert src.url.startswith(("https://", "http://"))


def test_recorded_checksums_match_shared_sha256sums(shared_datasets):
    for name in RECORDED:
        m = load_manifest(MANIFEST_DIR / f"{name}.yaml")
        assert {k: v.sha256 for k, v in m.checksums.items()} == _sha256sums(shared_datasets / name)


def test_unknown_dataset_suggests_a_name():
    with pytest.raises(UserError, match=r"unknown dataset 'Set4' \(did you mean 'Set14'\?\)"):
        resolve_dataset("Set4")
    with pytest.raises(UserError, match="unknown dataset 'set5'"):  # names are case-sensitive
        resolve_dataset("set5")


GOOD = {"name": "Bad", "kind": "test", "description": "x", "image_count": "1",
        "checksums": f"\n  a: {{sha256: {'a' * 64}, pixels: {'b' * 64}}}"}
BAD_MANIFESTS = {  # case -> (fields replacing GOOD's, expected message)
    "folder escapes": ({"folder": "../elsewhere"}, "paths such as '../x' are not allowed"),
    "image escapes": ({"checksums": f"\n  '../etc/passwd': {{sha256: {'a' * 64}, pixels: {'b' * 64}}}"},
                      "paths such as '../x' are not allowed"),
    "bad yaml": ({"description": "[unclosed"}, "invalid YAML"),
    "bad kind": ({"kind": "validation"}, "kind 'validation'"),
    "bad count": ({"image_count": "2"}, "image_count 2 but 1 checksums"),
    "bad sha": ({"checksums": "\n  a: {sha256: abc, pixels: def}"}, "not 64-digit hex"),
    "digest read as a number": ({"checksums": f"\n  a: {{sha256: {'1' * 64}, pixels: {'b' * 64}}}"}, "64-digit hex"),
    "bad source": ({"sources": "\n  - {url: 'ftp://x/y.zip', format: zip, member: '(?P<name>.*)'}"}, "not http"),
    "no name group": ({"sources": "\n  - {url: 'https://x/y.zip', format: zip, member: '.*'}"}, "no (?P<name>"),
    "bad format": ({"sources": "\n  - {url: 'https://x/y.rar', format: rar, member: '(?P<name>.*)'}"}, "not zip"),
}


@pytest.mark.parametrize("case", sorted(BAD_MANIFESTS))
def test_malformed_manifest_is_a_user_error_naming_it(tmp_path, case):
    fields, message = BAD_MANIFESTS[case]
    path = tmp_path / "Bad.yaml"
    path.write_text("".join(f"{k}: {v}\n" for k, v in {**GOOD, **fields}.items()))
    with pytest.raises(UserError, match=f"{path}: malformed dataset manifest") as err:
        load_manifest(path)
    assert message in str(err.value)
    path.write_text("".join(f"{k}: {v}\n" for k, v in GOOD.items()))
    assert load_manifest(path).name == "Bad"  # the same text without the fault is fine


def test_manifest_missing_keys_and_wrong_name(tmp_path):
    path = tmp_path / "Other.yaml"
    path.write_text("name: Bad\nkind: test\n")
    with pytest.raises(UserError, match="missing key"):
        load_manifest(path)
    path.write_text("name: Bad\nkind: test\ndescription: x\nimage_count: 1\nchecksums: not-recorded\n")
    with pytest.raises(UserError, match="differs from the file name"):
        load_manifest(path)


# ------------------------------------------------------------------------------------------ resolution

def test_data_root_copies_verify_against_sha256sums(shared_datasets):
    for name in RECORDED:
        ds = resolve_dataset(name, shared_datasets)
        assert ds.root == shared_datasets / name / "HR"
        assert {im.name: im.sha256 for im in ds.images} == _sha256sums(shared_datasets / name)
        assert all(im.path.parent == ds.root for im in ds.images)
    set14 = resolve_dataset("Set14", shared_datasets)
    assert [im.name for im in set14.images][:3] == ["baboon", "barbara", "bridge"]
    record = dataset_checksums(set14)
    assert record["root"] == str(shared_datasets / "Set14" / "HR") and len(record["images"]) == 14


def test_resolution_order_arg_then_env_then_cache(shared_datasets, tmp_path, monkeypatch):
    arg_root, env_root = tmp_path / "arg", tmp_path / "env"
    _copy_set(shared_datasets, "Set5", arg_root)
    _copy_set(shared_datasets, "Set5", env_root)
    cached = _copy_set(shared_datasets, "Set5", tmp_path / "cache" / "datasets")
    monkeypatch.setenv("SRBENCH_DATA", str(env_root))
    assert resolve_dataset("Set5", arg_root).root == arg_root / "Set5" / "HR"
    assert resolve_dataset("Set5").root == env_root / "Set5" / "HR"
    shutil.rmtree(env_root / "Set5")
    assert resolve_dataset("Set5").root == cached
    shutil.rmtree(cached)
    with pytest.raises(AssetError, match="SRBENCH_OFFLINE=1 forbids the download"):
        resolve_dataset("Set5")


def test_lossless_reencoding_is_accepted_a_changed_pixel_is_not(shared_datasets, tmp_path):
    hr = _copy_set(shared_datasets, "Set5", tmp_path / "data")
    pixels = np.asarray(Image.open(hr / "bird.png"))
    (hr / "bird.png").unlink()
    Image.fromarray(pixels).save(hr / "bird.bmp")  # other bytes, same pixels
    ds = resolve_dataset("Set5", tmp_path / "data")
    bird = next(im for im in ds.images if im.name == "bird")
    assert bird.path.suffix == ".bmp" and bird.sha256 == hashlib.sha256(bird.path.read_bytes()).hexdigest()
    pixels = pixels.copy()
    pixels[10, 10, 1] ^= 1
    Image.fromarray(pixels).save(hr / "bird.bmp")
    with pytest.raises(ChecksumError, match=r"bird\.bmp: checksum mismatch for image 'bird' of Set5"):
        resolve_dataset("Set5", tmp_path / "data")


def test_missing_and_extra_images(shared_datasets, tmp_path):
    hr = _copy_set(shared_datasets, "Set5", tmp_path / "data")
    shutil.copy(hr / "baby.png", hr / "extra.png")
    with pytest.warns(UserWarning, match="ignoring 1 file"):
        assert len(resolve_dataset("Set5", tmp_path / "data").images) == 5
    (hr / "head.png").unlink()
    with pytest.raises(AssetError, match=r"1 image\(s\) of Set5 missing \(head\)"):
        resolve_dataset("Set5", tmp_path / "data")


def test_corrupt_file_is_a_checksum_error(shared_datasets, tmp_path):
    hr = _copy_set(shared_datasets, "Set5", tmp_path / "data")
    (hr / "woman.png").write_bytes((hr / "woman.png").read_bytes()[:500])
    with pytest.raises(UserError, match=r"woman\.png"):
        resolve_dataset("Set5", tmp_path / "data")


def test_not_recorded_checks_the_count_only(tmp_path):
    hr = tmp_path / "data" / "DIV2K-val" / "HR"
    hr.mkdir(parents=True)
    for i in range(3):
        Image.fromarray(np.full((8, 8, 3), i, np.uint8)).save(hr / f"08{i:02d}.png")
    with pytest.warns(UserWarning, match="3 images, the manifest of DIV2K-val expects 100"):
        ds = resolve_dataset("DIV2K-val", tmp_path / "data")
    assert [im.name for im in ds.images] == ["0800", "0801", "0802"] and not ds.checksums_recorded


def test_dataset_without_source_explains_where_to_put_it(tmp_path):
    with pytest.raises(AssetError, match=r"Manga109: no .*manga109\.org.*Manga109/HR/"):
        resolve_dataset("Manga109", tmp_path / "nowhere")


def test_grey_palette_bmp_download_matches_recorded_set14(shared_datasets, tmp_path, monkeypatch):
    """Set14's source files are BMPs; 'bridge' must come out single-channel to match the recorded pixels."""
    members = {}
    for png in sorted((shared_datasets / "Set14" / "HR").glob("*.png")):
        img = Image.open(png)
        if img.mode == "L":  # store it as an 8-bit grey-palette BMP, as MATLAB-era files often are
            img = Image.frombytes("P", img.size, img.tobytes())
            img.putpalette([v for g in range(256) for v in (g, g, g)])
        buf = io.BytesIO()
        img.save(buf, format="BMP")
        members[f"SRCNN-x/Test/Set14/{png.stem}.bmp"] = buf.getvalue()
    archive = tmp_path / "set14.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    assert members["SRCNN-x/Test/Set14/bridge.bmp"][28] == 8  # BMP header: 8 bits per pixel, palette-indexed
    manifest = load_manifest(MANIFEST_DIR / "Set14.yaml")
    monkeypatch.setattr(ds_mod, "load_manifest", lambda path: manifest)
    def fake_download(url, dest, sha256, timeout):  # serves the archive built above instead of GitHub's
        assert url == manifest.sources[0].url
        dest.parent.mkdir(parents=True, exist_ok=True)
        return shutil.copy(archive, dest)

    monkeypatch.setattr("srbench.download.download", fake_download)
    monkeypatch.delenv("SRBENCH_OFFLINE")
    # the BMP bytes are not the recorded PNG bytes: only the pixel check can accept them (opt-in)
    monkeypatch.setenv("SRBENCH_ALLOW_UNVERIFIED_DOWNLOADS", "1")
    ds = resolve_dataset("Set14", tmp_path / "empty")
    assert ds.root == tmp_path / "cache" / "datasets" / "Set14" / "HR" and len(ds.images) == 14
    assert np.asarray(Image.open(ds.root / "bridge.png")).ndim == 2


def test_grey_palette_png_member_stays_single_channel(tmp_path):
    grey = np.arange(48, dtype=np.uint8).reshape(6, 8) * 5
    img = Image.frombytes("P", (8, 6), grey.tobytes())
    img.putpalette([v for g in range(256) for v in (g, g, g)])
    img.save(tmp_path / "g.png")
    assert Image.open(tmp_path / "g.png").mode == "P"
    np.testing.assert_array_equal(ds_mod._decode_member(tmp_path / "g.png"), grey[:, :, None])
    img.putpalette([v for g in range(256) for v in (g, 255 - g, g)])  # a colour palette stays RGB
    img.save(tmp_path / "c.png")
    assert ds_mod._decode_member(tmp_path / "c.png").shape == (6, 8, 3)


# ----------------------------------------------------------------------------------- embedded default

def test_default_dataset_is_skimage_photos_centre_cropped(tmp_path):
    ds = resolve_dataset("default")
    assert [im.name for im in ds.images] == ["astronaut", "chelsea", "coffee", "motorcycle", "rocket"]
    loaders = {"astronaut": skimage.data.astronaut, "chelsea": skimage.data.chelsea, "coffee": skimage.data.coffee,
               "motorcycle": lambda: skimage.data.stereo_motorcycle()[0], "rocket": skimage.data.rocket}
    for im in ds.images:
        original = loaders[im.name]()  # scikit-image's own reader, not srbench's
        h, w = original.shape[:2]
        top, left = max(h - 512, 0) // 2, max(w - 512, 0) // 2
        expected = original[top: top + 512, left: left + 512]
        got = np.asarray(Image.open(im.path))
        np.testing.assert_array_equal(got, expected)
        assert max(got.shape[:2]) <= 512 and got.shape[2] == 3
        assert im.sha256 == hashlib.sha256(im.path.read_bytes()).hexdigest()
    assert {n: p for n, _, p in embedded.EMBEDDED_IMAGES} == {
        im.name: pixel_sha256(np.asarray(Image.open(im.path))) for im in ds.images}
    assert ds.root == tmp_path / "cache" / "datasets" / "default" / "HR"


def test_default_dataset_is_built_once_and_repaired(tmp_path):
    first = resolve_dataset("default")
    stamps = {im.name: im.path.stat().st_mtime_ns for im in first.images}
    assert {im.name: im.path.stat().st_mtime_ns for im in resolve_dataset("default").images} == stamps
    victim = first.root / "coffee.png"
    victim.write_bytes(victim.read_bytes()[:-10])
    with pytest.warns(UserWarning, match=r"coffee\.png: damaged"):
        again = resolve_dataset("default")
    assert [im.sha256 for im in again.images] == [im.sha256 for im in first.images]
    assert [p.name for p in (tmp_path / "cache" / "datasets").iterdir()] == ["default"]  # no temp folders left


def test_default_ignores_data_root(tmp_path):
    assert resolve_dataset("default", tmp_path / "nowhere").root == tmp_path / "cache" / "datasets" / "default" / "HR"
