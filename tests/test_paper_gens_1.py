"""Paper generators I (SRResNet/SRGAN, MSFM-GAN, Bi-GANs-ST) and the shared training machinery.

Architectures are checked against parameter counts recomputed layer by layer from the papers' descriptions;
every recipe takes one real optimisation step on CPU with a randomly initialised VGG; resuming from a
checkpoint reproduces the uninterrupted run exactly.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from srbench.methods import create_method, discover_methods
from srbench.train.loop import GENERATOR, create_recipe, train
from srbench.train.recipe import TrainConfig

discover_methods()
from srbench_methods.bi_gans_st.arch import (MRSRGANGenerator, soft_threshold_fusion,  # noqa: E402
                                             wp_srgan_generator)
from srbench_methods.bi_gans_st.fold import fold_batchnorm  # noqa: E402
from srbench_methods.msfm_gan.arch import MSFMGenerator, PatchDiscriminator  # noqa: E402
from srbench_methods.srresnet.arch import SRGANDiscriminator, SRResNet  # noqa: E402

torch.set_num_threads(1)


def conv_params(k: int, cin: int, cout: int) -> int:
    return k * k * cin * cout + cout


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def count(net: nn.Module, kind) -> int:
    return sum(isinstance(m, kind) for m in net.modules())


# ---------------------------------------------------------------- architectures


def test_srresnet_matches_paper_description():
    net = SRResNet(scale=4)
    block = 2 * conv_params(3, 64, 64) + 2 * 2 * 64 + 64            # conv-BN-PReLU-conv-BN
    expected = (conv_params(9, 3, 64) + 64 + 16 * block + conv_params(3, 64, 64) + 2 * 64
                + 2 * (conv_params(3, 64, 256) + 64) + conv_params(9, 64, 3))
    assert n_params(net) == expected == 1_550_659
    assert count(net, nn.BatchNorm2d) == 33 and count(net, nn.PixelShuffle) == 2
    assert net(torch.rand(1, 3, 12, 10)).shape == (1, 3, 48, 40)


def test_srgan_discriminator_matches_paper_description():
    d = SRGANDiscriminator(patch=96)
    widths = [64, 64, 128, 128, 256, 256, 512, 512]
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == widths
    assert [c.stride[0] for c in convs] == [1, 2] * 4 and all(c.kernel_size == (3, 3) for c in convs)
    expected = sum(conv_params(3, i, o) for i, o in zip([3] + widths[:-1], widths)) + 2 * sum(widths[1:])
    expected += (512 * 6 * 6 * 1024 + 1024) + (1024 + 1)            # two dense layers on the 6x6x512 map
    assert n_params(d) == expected
    assert d(torch.rand(2, 3, 96, 96)).shape == (2, 1)


def test_msfm_generator_layout():
    g = MSFMGenerator()
    enc = [m for part in (g.enc1, g.enc2, *g.enc3) for m in part.modules() if isinstance(m, nn.Conv2d)]
    dec_plain = [g.dec1[0], g.dec2[0], g.dec2[2], g.dec4[0], g.dec5[0], g.dec6[0], g.dec7]
    assert len(enc) == 7 and enc[0].kernel_size == (9, 9) and all(c.kernel_size == (3, 3) for c in enc[1:])
    assert [c.out_channels for c in enc] == [64, 64, 128, 128, 256, 256, 256]   # doubled after each pool
    assert len(dec_plain) == 7 and dec_plain[-1].kernel_size == (5, 5) and dec_plain[-1].out_channels == 3
    assert count(g, nn.MaxPool2d) == 2 and count(g, nn.BatchNorm2d) == 0
    assert len(g.msfm) == 3 and all(count(m, nn.PixelShuffle) == 2 for m in g.msfm)
    assert count(g, nn.PixelShuffle) == 3 * 2 + 2
    x = torch.rand(1, 3, 32, 28)
    assert g(x).shape == x.shape
    assert torch.equal(g(x), x)   # zero-initialised last conv: the untrained net returns its bicubic input


def test_msfm_patch_discriminator_layout():
    d = PatchDiscriminator()
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert convs[0].kernel_size == (5, 5) and convs[0].stride == (2, 2)
    assert all(c.kernel_size == (3, 3) and c.stride == (1, 1) for c in convs[1:])
    assert count(d, nn.BatchNorm2d) == 3 and count(d, nn.MaxPool2d) == 3
    assert d(torch.rand(2, 3, 128, 128)).shape == (2, 1, 8, 8)   # one logit per patch


def test_mr_srgan_generator_layout():
    g = MRSRGANGenerator(num_mr=7)
    res = 2 * conv_params(3, 64, 64) + 64
    mr = 4 * res + conv_params(1, 4 * 64, 64)
    expected = (conv_params(3, 3, 64) + 64 + 7 * mr + conv_params(3, 64, 64)
                + 2 * (conv_params(3, 64, 256) + 64) + conv_params(3, 64, 3))
    assert n_params(g) == expected
    assert count(g, nn.BatchNorm2d) == 0 and len(g.body) == 7
    assert g(torch.rand(1, 3, 8, 6)).shape == (1, 3, 32, 24)


def test_wp_srgan_is_srresnet_without_bn():
    g = wp_srgan_generator()
    assert count(g, nn.BatchNorm2d) == 0 and len(g.body) == 16
    assert g.head[0].kernel_size == (9, 9) and g.tail.kernel_size == (9, 9)
    assert n_params(SRResNet()) - n_params(g) == 33 * 2 * 64
    assert count(SRGANDiscriminator(96, batch_norm=False), nn.BatchNorm2d) == 0


def test_soft_threshold_fusion():
    perceptual = torch.tensor([10.0, 10.0, 10.0, 10.0])
    fidelity = torch.tensor([10.5, 12.0, 9.0, 10.0])
    fused = soft_threshold_fusion(perceptual, fidelity, 0.73)
    assert torch.allclose(fused, torch.tensor([10.5, 10.73, 9.27, 10.0]))
    assert torch.equal(soft_threshold_fusion(perceptual, fidelity, 0.0), perceptual)
    assert torch.equal(soft_threshold_fusion(perceptual, fidelity, 100.0), fidelity)


def test_fold_batchnorm_preserves_outputs():
    torch.manual_seed(0)
    net = SRResNet(num_blocks=2)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    plain = SRResNet(num_blocks=2, batch_norm=False)
    plain.load_state_dict(fold_batchnorm(net.state_dict()))
    x = torch.rand(1, 3, 10, 10)
    with torch.no_grad():
        assert torch.allclose(net.eval()(x), plain.eval()(x), atol=1e-5)


# ---------------------------------------------------------------- training machinery


@pytest.fixture(scope="module")
def hr_folder(tmp_path_factory):
    """Two smooth synthetic HR images (real PNG files through the real data pipeline)."""
    root = tmp_path_factory.mktemp("hr")
    yy, xx = np.mgrid[0:48, 0:52]
    for i in range(2):
        img = np.stack([128 + 100 * np.sin(xx / (5 + i) + c) * np.cos(yy / 7) for c in range(3)], axis=2)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(root / f"im{i}.png")
    return root


def test_vgg_layers_are_torchvision_indices():
    from srbench.train.vgg import VGGFeatures, layer_index

    assert layer_index("vgg19", "phi_5_4") == 35 and layer_index("vgg16", "phi_4_3") == 22
    assert layer_index("vgg16", "phi_5_3") == 29 and layer_index("vgg19", "phi_2_2") == 8
    f = VGGFeatures("vgg16", "phi_4_3", random_init=True)
    assert f(torch.rand(1, 3, 32, 32)).shape == (1, 512, 4, 4)
    assert not any(p.requires_grad for p in f.parameters())


def test_missing_vgg_weights_refused_unless_random_allowed(hr_folder, monkeypatch, tmp_path):
    from srbench.errors import AssetError

    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path))
    monkeypatch.delenv("SRBENCH_SHARED", raising=False)
    with pytest.raises(AssetError, match="random-vgg"):
        create_recipe("srgan", TrainConfig(hr_patch=32, batch_size=1))
    recipe = create_recipe("srgan", TrainConfig(hr_patch=32, batch_size=1, random_vgg=True))
    assert "random-init" in recipe.vgg_identity


def test_adversarial_losses():
    from srbench.train import losses

    logits = torch.tensor([[[[0.0, 2.0], [-1.0, 1.0]]]])
    p = torch.sigmoid(logits).mean()
    assert torch.allclose(losses.generator_nll(logits), -torch.log(p))
    assert torch.allclose(losses.generator_prob(logits), -p)
    expect = -(torch.log(p) + torch.log(1 - torch.sigmoid(-logits).mean()))
    assert torch.allclose(losses.discriminator_nll(logits, -logits), expect)
    assert torch.isfinite(losses.generator_nll(torch.full((1, 1), -1e4)))   # saturated D stays finite


def test_sampler_pairs_are_aligned_and_reproducible(hr_folder):
    from srbench import matlab
    from srbench.train.data import PairedPatchSampler

    s = PairedPatchSampler([hr_folder], scale=4, hr_patch=32, batch_size=3, seed=5, upsampled=True)
    a, b = s.batch(7), s.batch(7)
    assert all(torch.equal(a[k], b[k]) for k in a) and not torch.equal(a["hr"], s.batch(8)["hr"])
    assert a["lr"].shape == (3, 3, 8, 8) and a["hr"].shape == a["lr_up"].shape == (3, 3, 32, 32)
    for lr, hr in zip(a["lr"], a["hr"]):
        down = matlab.imresize(hr.permute(1, 2, 0).double().numpy(), 0.25)
        inner = np.abs(down - lr.permute(1, 2, 0).double().numpy())[2:-2, 2:-2]
        assert inner.mean() < 2 / 255   # a crop offset by one LR pixel would differ by far more


RECIPE_CASES = [("srresnet", {}), ("srgan", {}), ("srgan", {"content": "mse"}), ("msfm-mse", {}),
                ("msfm-gan", {}), ("msfm-gan", {"vgg_weight": 0}), ("mr-srgan-mse", {}), ("mr-srgan", {}),
                ("wp-srgan-stage1", {}), ("wp-srgan-stage2", {})]


@pytest.mark.parametrize("name,options", RECIPE_CASES)
def test_one_training_step_of_each_recipe(name, options, hr_folder):
    from srbench.train.data import PairedPatchSampler

    recipe = create_recipe(name, TrainConfig(hr_patch=32, batch_size=2, random_vgg=True, options=options))
    uses_vgg = name in ("srgan", "msfm-gan", "mr-srgan", "wp-srgan-stage2") and not options
    assert (getattr(recipe, "vgg", None) is not None) == uses_vgg
    sampler = PairedPatchSampler([hr_folder], 4, 32, 2, recipe.config.degradation,
                                 upsampled=recipe.input_key == "lr_up")
    before = {k: v.clone() for k, v in recipe.generator().state_dict().items()}
    # Two steps: MSFM's zero-initialised last conv lets gradients reach the other layers only from step 2.
    for step in range(2):
        values = recipe.step(sampler.batch(step))
        assert values and all(np.isfinite(v) for v in values.values())
    after = recipe.generator().state_dict()
    changed = [k for k in before if before[k].is_floating_point() and not torch.equal(before[k], after[k])]
    assert len(changed) > len(before) // 2
    if "D" in recipe.nets:
        assert "loss_d" in values and "adv" in values


def test_resume_gives_the_same_next_step(hr_folder, tmp_path):
    cfg = dict(hr_patch=32, batch_size=2, random_vgg=True)
    train("srgan", [str(hr_folder)], 3, tmp_path / "straight", TrainConfig(**cfg), progress=None)
    train("srgan", [str(hr_folder)], 2, tmp_path / "split", TrainConfig(**cfg), ckpt_every=1, progress=None)
    train("srgan", [str(hr_folder)], 3, tmp_path / "split", TrainConfig(**cfg), resume=True, progress=None)
    a = torch.load(tmp_path / "straight" / GENERATOR, weights_only=True)
    b = torch.load(tmp_path / "split" / GENERATOR, weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    logs = [(tmp_path / d / "log.csv").read_text().splitlines() for d in ("straight", "split")]
    strip = lambda rows: [r.split(",", 2)[::2] for r in rows]  # noqa: E731  (drop the timing column)
    assert strip(logs[0]) == strip(logs[1]) and len(logs[0]) == 4


def test_train_cli_errors(hr_folder, tmp_path):
    from srbench.cli import main

    assert main(["train", "srresnet", "--out", str(tmp_path / "x")]) == 2
    assert main(["train", "no-such", "--data", str(hr_folder), "--out", str(tmp_path / "y")]) == 2
    args = ["train", "srresnet", "--data", str(hr_folder), "--iters", "1", "--out", str(tmp_path / "z"),
            "--patch", "32", "--batch-size", "1"]
    assert main(args) == 0
    assert main(args) == 2   # a checkpoint exists and --resume was not given


def test_trained_generator_runs_through_its_adapter(hr_folder, tmp_path):
    train("srresnet", [str(hr_folder)], 1, tmp_path, TrainConfig(hr_patch=32, batch_size=1), progress=None)
    method = create_method("srresnet", weights=str(tmp_path / GENERATOR))
    out = method.super_resolve(np.full((6, 5, 3), 100, np.uint8), 4)
    assert out.pixels.shape == (24, 20, 3) and out.pixels.dtype == np.uint8
    assert method.identity(4).startswith("srresnet:x4:sha256:")


def test_torchrun_ddp_two_processes_on_cpu(hr_folder, tmp_path):
    """WORLD_SIZE > 1: DistributedDataParallel over gloo, rank 0 writes the checkpoint and log."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "srbench.cli", "train",
           "srresnet", "--data", str(hr_folder), "--iters", "1", "--out", str(tmp_path), "--patch", "32",
           "--batch-size", "1"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((tmp_path / "run-0.json").read_text())["world_size"] == 2
    assert (tmp_path / GENERATOR).is_file() and len((tmp_path / "log.csv").read_text().splitlines()) == 2


# Fingerprint of each committed checkpoint's x4 output on a fixed image (tests/synthetic_run.py hr_image(3),
# MATLAB-bicubic LR): (mean grey level, PSNR against the HR in dB), recorded on CPU. Between 1 and 2 torch
# threads the largest change measured was 1.4e-4 (mean) and 1e-4 dB (bi-gans-st: one pixel flips a level);
# the tolerances allow ~70 such flips, while a wrong weight, layer or pre/post-processing moves both by far more.
CHECKPOINT_FINGERPRINTS = {
    "srresnet": (105.34751157407408, 22.683107812019312),
    "srgan": (105.52879050925925, 22.379025424319927),
    "msfm-gan": (106.46281828703704, 23.5596012076161),
    "mr-srgan": (105.93504050925925, 23.106856459943977),
    "wp-srgan": (107.04557291666667, 22.84345130419667),
    "bi-gans-st": (106.92028356481481, 22.912656577093372),
}


@pytest.mark.parametrize("name", sorted(CHECKPOINT_FINGERPRINTS))
def test_committed_checkpoints_load_and_run(name):
    """The committed fp16 checkpoints match their recorded sha256 and their architectures (strict load), and
    produce the recorded output."""
    from srbench import matlab
    from srbench.metrics.fidelity import psnr
    from synthetic_run import hr_image

    hr = hr_image(3, 48)
    lr = matlab.imresize(hr, 1 / 4)
    out = create_method(name).super_resolve(lr, 4).pixels
    assert out.shape == (48, 48, 3) and out.dtype == np.uint8
    mean, db = CHECKPOINT_FINGERPRINTS[name]
    assert float(out.astype(np.float64).mean()) == pytest.approx(mean, abs=0.01)
    assert psnr(out, hr) == pytest.approx(db, abs=0.01)


@pytest.mark.parametrize("name", ["srresnet", "srgan", "msfm-gan", "mr-srgan", "wp-srgan", "bi-gans-st"])
def test_committed_checkpoints_beat_bicubic_on_set5(shared_datasets, name):
    """The issue's bar: mean Set5 x4 Y-PSNR above MATLAB bicubic's (the GAN variants' own bar, PI, needs the Ma
    model, which is not available, so they are held to the PSNR bar as well)."""
    from set5_gain import psnr_gains_over_bicubic

    gains = psnr_gains_over_bicubic(shared_datasets, name, 4)
    assert sum(gains) / len(gains) > 0.2, gains


def test_bi_gans_st_stays_within_xi_of_the_perceptual_branch():
    rng = np.random.default_rng(1)
    lr = rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)
    fused = create_method("bi-gans-st").super_resolve(lr, 4).pixels.astype(int)
    wp = create_method("wp-srgan").super_resolve(lr, 4).pixels.astype(int)
    mr = create_method("mr-srgan").super_resolve(lr, 4).pixels.astype(int)
    assert np.abs(fused - wp).max() <= 1                  # 0.73 grey levels, plus uint8 rounding
    between = (np.minimum(wp, mr) - 1 <= fused) & (fused <= np.maximum(wp, mr) + 1)
    assert between.all()                                  # a move towards MR-SRGAN, never away from it
