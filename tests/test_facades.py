"""CMP Facades: the fixed split of datasets/Facades.yaml, the 256x256 test images built from the original
photos for `srbench run --datasets Facades`, and Stage-GAN training on the train split only."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
import yaml
from PIL import Image

from srbench import facades
from srbench.datasets import load_manifest, manifest_path, pixel_sha256, resolve_dataset
from srbench.errors import ChecksumError
from srbench.methods import discover_methods

discover_methods()   # methods/<folder> as srbench_methods.<folder>


def test_manifest_split_is_fixed_sorted_and_disjoint():
    train, test = facades.split("train"), facades.split("test")
    assert len(train) == 200 and len(test) == 100
    assert train == [f"cmp_b{i:04d}" for i in range(1, 201)] and test == [f"cmp_b{i:04d}" for i in range(201, 301)]
    raw = yaml.safe_load(manifest_path("Facades").read_text())
    assert sorted(raw["source_files"]) == train + test
    assert all(set(v) == {"photo", "label"} for v in raw["source_files"].values())
    manifest = load_manifest(manifest_path("Facades"))
    assert sorted(manifest.checksums) == test and manifest.image_count == 100   # only test images are evaluated


# ---------------------------------------------------------------- synthetic CMP copy, synthetic manifest
def _photo(seed, shape=(70, 50, 3)):
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


@pytest.fixture
def cmp_copy(tmp_path, monkeypatch):
    """A data root with Facades/base/{cmp_b0001..3}.jpg|png and a manifest (train: 1; test: 2, 3) for it."""
    from srbench import datasets
    from srbench.imageio import encode_png, read_image

    base = tmp_path / "data" / "Facades" / "base"
    base.mkdir(parents=True)
    stems = ["cmp_b0001", "cmp_b0002", "cmp_b0003"]
    for k, stem in enumerate(stems):
        Image.fromarray(_photo(k)).save(base / f"{stem}.jpg", quality=90)
        lab = Image.fromarray(np.random.default_rng(9 + k).integers(1, 13, (70, 50)).astype(np.uint8), mode="P")
        lab.putpalette(list(range(36)) + [0] * 732)
        lab.save(base / f"{stem}.png")
    sha = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    checksums = {}
    for stem in stems[1:]:
        # the evaluated image, computed here from the decoded JPEG with MATLAB bicubic to 256x256
        from srbench import matlab

        img = matlab.imresize(read_image(base / f"{stem}.jpg"), output_shape=(256, 256))
        checksums[stem] = {"sha256": hashlib.sha256(encode_png(img)).hexdigest(), "pixels": pixel_sha256(img)}
    manifest = {"name": "Facades", "kind": "test", "description": "synthetic", "image_count": 2, "sources": [],
                "split": {"train": stems[:1], "test": stems[1:]},
                "source_files": {s: {"photo": sha(base / f"{s}.jpg"), "label": sha(base / f"{s}.png")} for s in stems},
                "checksums": checksums}
    mdir = tmp_path / "manifests"
    mdir.mkdir()
    (mdir / "Facades.yaml").write_text(yaml.safe_dump(manifest))
    monkeypatch.setattr(datasets, "MANIFEST_DIR", mdir)
    monkeypatch.setattr(facades, "MANIFEST", mdir / "Facades.yaml")
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    facades._manifest.cache_clear()
    yield tmp_path / "data", base
    facades._manifest.cache_clear()


def test_run_dataset_is_the_test_photos_resized_to_256(cmp_copy):
    from srbench.imageio import read_image

    root, base = cmp_copy
    ds = resolve_dataset("Facades", root)
    assert [im.name for im in ds.images] == ["cmp_b0002", "cmp_b0003"]      # the train photo is not evaluated
    for im in ds.images:
        hr = read_image(im.path)
        assert hr.shape == (256, 256, 3)
        # MATLAB bicubic of the original, not PIL's resize
        ours = Image.fromarray(read_image(base / f"{im.name}.jpg")).resize((256, 256), Image.BICUBIC)
        assert not np.array_equal(hr, np.asarray(ours))
    assert resolve_dataset("Facades", root).root == ds.root                  # second time: from the cache


def test_altered_original_is_refused(cmp_copy):
    root, base = cmp_copy
    Image.fromarray(_photo(5)).save(base / "cmp_b0003.jpg", quality=90)
    with pytest.raises(ChecksumError, match="cmp_b0003.jpg"):
        resolve_dataset("Facades", root)


def test_stage_gan_trains_on_the_train_split_only(cmp_copy):
    from srbench_methods.stage_gan.facades import FacadesSampler, find_pairs

    root, base = cmp_copy
    assert [p.stem for p, _ in find_pairs(root / "Facades", "train")] == ["cmp_b0001"]
    assert [p.stem for p, _ in find_pairs(root / "Facades", "val")] == ["cmp_b0002", "cmp_b0003"]
    sampler = FacadesSampler(root / "Facades", scale=4)
    assert len(sampler.pairs) == 1 and sampler.pairs[0][1].shape == (256, 256, 3)
    # the label map is a ground-truth semantic target (its palette colours, nearest-neighbour resized)
    assert len(np.unique(sampler.pairs[0][2].reshape(-1, 3), axis=0)) <= 12
    (base / "cmp_b0001.png").write_bytes((base / "cmp_b0002.png").read_bytes())
    with pytest.raises(ChecksumError, match="label of 'cmp_b0001'"):
        find_pairs(root / "Facades", "train")


# ---------------------------------------------------------------- the real data
def test_shared_facades_split(shared_datasets):
    from srbench_methods.stage_gan.facades import find_pairs

    train = find_pairs(shared_datasets / "Facades", "train")
    assert [p.stem for p, _ in train] == facades.split("train")
    assert all(label.stem == photo.stem and label.suffix == ".png" for photo, label in train)
    assert [p.stem for p, _ in find_pairs(shared_datasets / "Facades", "val")] == facades.split("test")


@pytest.mark.slow
def test_shared_facades_test_images_match_the_manifest(shared_datasets, tmp_path, monkeypatch):
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path))
    ds = resolve_dataset("Facades", shared_datasets)    # built from the originals, verified against checksums
    assert [im.name for im in ds.images] == facades.split("test") and ds.checksums_recorded
