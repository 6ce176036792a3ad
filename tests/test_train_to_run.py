"""From `srbench train` to `srbench run`: every training recipe's output runs, unchanged, as
`srbench run --methods METHOD --weights generator_fp16.pth`, labelled a user checkpoint and identified by
the file's sha256; `--arch METHOD` does the same for `--methods torch:PATH`; `--data NAME` resolves a dataset
name like `srbench run` does."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from srbench.assets import sha256_file
from srbench.cli import main
from srbench.methods import USER, create_method, discover_methods
from srbench.train.loop import GENERATOR, train
from srbench.train.recipe import RECIPES, TrainConfig

discover_methods()
torch.set_num_threads(1)

# The smallest settings each recipe accepts (architecture options as recipe --option values).
SMALL = {
    "stage-gan": {"ngf": 4, "depth": 3, "refiner_ngf": 4, "refiner_blocks": 1, "ndf": 4, "residual": 1},
    "spsagan-rrdb": {"nf": 8, "gc": 4, "blocks": 1},
}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """<root>/tiny/HR: two smooth synthetic 48x52 images, a user dataset for both train and run."""
    root = tmp_path_factory.mktemp("data")
    hr = root / "tiny" / "HR"
    hr.mkdir(parents=True)
    yy, xx = np.mgrid[0:48, 0:52]
    for i in range(2):
        img = np.stack([128 + 100 * np.sin(xx / (5 + i) + c) * np.cos(yy / 7) for c in range(3)], axis=2)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(hr / f"im{i}.png")
    return root


def _run(data_root, out, *args) -> dict:
    rc = main(["run", "--datasets", "tiny", "--data-root", str(data_root), "--scale", "4", "--metrics", "psnr_y",
               "--out", str(out), "--no-report", "--quiet", "--no-cache", "--jobs", "1", *args])
    assert rc == 0
    return json.loads((out / "run.json").read_text())


# Recipes with a (randomly initialised) VGG loss take several seconds each on a loaded CPU: slow.
PERCEPTUAL = {"srgan", "mr-srgan", "msfm-gan", "wp-srgan-stage2", "spsagan"}


@pytest.mark.parametrize("recipe", [pytest.param(r, marks=pytest.mark.slow) if r in PERCEPTUAL else r
                                    for r in RECIPES.names()])
def test_every_recipe_trains_then_runs_with_weights(recipe, data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    method = RECIPES.factory(recipe).method
    assert method in discover_methods(), f"recipe {recipe} produces '{method}', which is no registered method"
    # HR patch 32, batch 2: discriminators with BatchNorm need more than one value per channel.
    config = TrainConfig(hr_patch=32, batch_size=2, random_vgg=True, options=SMALL.get(recipe, {}))
    train(recipe, [str(data_root / "tiny")], 1, tmp_path / "train", config, progress=None)
    weights = tmp_path / "train" / GENERATOR

    info = _run(data_root, tmp_path / "run", "--methods", method, "--weights", str(weights))
    entry = info["methods"][method]
    assert entry["status"] == "ok", entry
    assert entry["provenance"] == USER
    assert f":sha256:{sha256_file(weights)}" in entry["scales"]["4"]["identity"]
    summary = (tmp_path / "run" / "summary.csv").read_text().splitlines()
    assert len(summary) == 2 and np.isfinite(float(summary[1].split(",")[-1]))


def test_weights_change_the_identity_and_the_output(data_root, tmp_path, monkeypatch):
    """Two checkpoints of one method are two cache identities: the second run is not served the first's SR."""
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    outs = []
    for seed in (0, 1):
        train("srresnet", [str(data_root / "tiny")], 1, tmp_path / f"t{seed}",
              TrainConfig(hr_patch=16, batch_size=1, seed=seed), progress=None)
        rc = main(["run", "--datasets", "tiny", "--data-root", str(data_root), "--scale", "4", "--metrics", "psnr_y",
                   "--out", str(tmp_path / f"r{seed}"), "--no-report", "--quiet", "--jobs", "1", "--methods", "srresnet",
                   "--weights", f"srresnet={tmp_path / f't{seed}' / GENERATOR}"])
        assert rc == 0
        outs.append((tmp_path / f"r{seed}" / "summary.csv").read_text())
    assert outs[0] != outs[1]


def test_arch_accepts_a_method_name(data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    train("srresnet", [str(data_root / "tiny")], 1, tmp_path / "t", TrainConfig(hr_patch=16, batch_size=1),
          progress=None)
    weights = tmp_path / "t" / GENERATOR
    spec = f"torch:{weights}"
    info = _run(data_root, tmp_path / "a", "--methods", spec, "--arch", "srresnet")
    shown = info["methods"]["generator_fp16"]  # shown under the checkpoint's stem, full spec beside it
    assert shown["status"] == "ok" and shown["provenance"] == USER and shown["spec"] == spec
    via_weights = _run(data_root, tmp_path / "b", "--methods", "srresnet", "--weights", str(weights))
    # The same network and forward pass either way: the same numbers.
    assert (tmp_path / "a" / "summary.csv").read_text().split("\n", 1)[1].split(",", 1)[1] == \
        (tmp_path / "b" / "summary.csv").read_text().split("\n", 1)[1].split(",", 1)[1]
    assert via_weights["methods"]["srresnet"]["provenance"] == USER


def test_zoo_method_runs_a_user_checkpoint_of_its_architecture(tmp_path):
    """A Y-channel zoo method (no recipe) on a user's state_dict: not checked against the published sha256,
    labelled a user checkpoint, identified by its own digest."""
    from srbench_methods.fsrcnn.arch import FSRCNN_ARCH

    torch.manual_seed(0)
    net = FSRCNN_ARCH.factory(scale=2)
    path = tmp_path / "my_fsrcnn.pth"
    torch.save({k: v.half() for k, v in net.state_dict().items()}, path)
    method = create_method("fsrcnn", weights=str(path))
    assert method.provenance == USER
    assert method.identity(2) == f"fsrcnn:x2:sha256:{sha256_file(path)}"
    loaded = method.prepare(2).state_dict()
    assert all(torch.equal(loaded[k], v.half().float()) for k, v in net.state_dict().items())


def test_bad_weights_options_are_one_line_errors(data_root, tmp_path, capsys):
    base = ["run", "--datasets", "tiny", "--data-root", str(data_root), "--scale", "4", "--out", str(tmp_path / "o"),
            "--no-report", "--quiet"]
    assert main(base + ["--methods", "srresnet", "--weights", str(tmp_path / "missing.pth")]) == 2
    assert "missing.pth: no such weights file" in capsys.readouterr().err
    assert main(base + ["--methods", "srresnet,srgan", "--weights", str(tmp_path / "x.pth")]) == 2
    assert "METHOD=" in capsys.readouterr().err
    (tmp_path / "x.pth").write_bytes(b"")
    assert main(base + ["--methods", "srresnet", "--weights", f"srgan={tmp_path / 'x.pth'}"]) == 2
    assert "not among --methods" in capsys.readouterr().err
    assert main(base + ["--methods", "bicubic", "--weights", str(tmp_path / "x.pth")]) == 2
    assert "bicubic has no weights" in capsys.readouterr().err


def test_train_data_name_resolves_through_data_root(data_root, tmp_path, monkeypatch, capsys):
    """`srbench train ... --data NAME` finds <data-root>/NAME as `srbench run --datasets NAME` does."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SRBENCH_DATA", raising=False)
    args = ["train", "srresnet", "--data", "tiny", "--iters", "1", "--patch", "16", "--batch-size", "1"]
    assert main(args + ["--out", str(tmp_path / "no-root")]) == 2
    assert "tiny: training data folder not found" in capsys.readouterr().err
    assert main(args + ["--out", str(tmp_path / "a"), "--data-root", str(data_root)]) == 0
    monkeypatch.setenv("SRBENCH_DATA", str(data_root))
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    meta = json.loads((tmp_path / "b" / "run-0.json").read_text())
    assert meta["data"] == [str(data_root / "tiny")]


def test_a_checkpoint_runs_only_at_the_scale_it_was_trained_for(data_root, tmp_path):
    """Stage-GAN takes x4 and x8 with one architecture: the checkpoint's metadata keeps an x4 training from
    being scored as an x8 model (skipped with the reason)."""
    from srbench.errors import Unavailable

    config = TrainConfig(hr_patch=32, batch_size=2, options={**SMALL["stage-gan"], "gan_weight": 0})
    train("stage-gan", [str(data_root / "tiny")], 1, tmp_path, config, progress=None)
    method = create_method("stage-gan", weights=str(tmp_path / GENERATOR))
    assert method.identity(4).startswith("stage-gan:x4:sha256:")
    with pytest.raises(Unavailable, match="trained for x4"):
        method.identity(8)
