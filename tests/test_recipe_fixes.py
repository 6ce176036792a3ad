"""Recipe fixes of issue 18 on tiny synthetic data: the adversarial recipes' BatchNorm statistics, SPSAGAN's
ESRGAN losses, Stage-GAN's linear learning-rate decay, MR-SRGAN's best-SSIM checkpoint selection."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from srbench.train import AdversarialRecipe
from srbench.train import losses
from srbench.train.loop import GENERATOR, create_recipe, train
from srbench.train.recipe import TrainConfig
from srbench.methods import discover_methods

discover_methods()   # methods/<folder> as srbench_methods.<folder>


def _batch(scale=4, hr=16, n=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    hr_t = torch.rand((n, 3, hr, hr), generator=g)
    return {"lr": torch.nn.functional.avg_pool2d(hr_t, scale), "hr": hr_t}


# ---------------------------------------------------------------- AdversarialRecipe: BN statistics
class _BNProbe(nn.Module):
    """A discriminator whose first layer is a BatchNorm on the image itself, so the batch statistics it
    normalises with are those of exactly the images of each call; it records them."""

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(3)
        self.head = nn.Conv2d(3, 1, 3, padding=1)
        self.seen: list[torch.Tensor] = []

    def forward(self, x):
        x64 = x.detach().double()
        self.seen.append(torch.cat([x64.mean((0, 2, 3)), x64.var((0, 2, 3), unbiased=False)]))
        return self.head(self.bn(x))


class _Probe(AdversarialRecipe):
    defaults = {"scale": 4, "hr_patch": 16, "batch_size": 2, "degradation": "bicubic", "lr": 1e-3}

    def make_generator(self):
        return nn.Sequential(nn.Conv2d(3, 48, 3, padding=1), nn.PixelShuffle(4))

    def make_discriminator(self):
        return _BNProbe()

    def content_terms(self, sr, hr):
        return {"mse": losses.mse(sr, hr)}


def test_generator_is_scored_with_the_batch_statistics_the_discriminator_was_trained_with():
    recipe = _Probe(TrainConfig())
    batch = _batch()
    D = recipe.nets["D"]
    out = recipe.step(batch)
    assert np.isfinite(out["loss_d"]) and np.isfinite(out["adv"])
    *trained, scored = D.seen
    assert len(trained) == 2
    stats = lambda x: torch.cat([x.double().mean((0, 2, 3)), x.double().var((0, 2, 3), unbiased=False)])  # noqa: E731
    # D was trained on the real batch alone and on the generated batch alone ...
    torch.testing.assert_close(trained[0], stats(batch["hr"]))
    # ... and the generator step normalises its fakes exactly as D's fake pass did (same images, same G).
    torch.testing.assert_close(scored, trained[1])
    assert not torch.allclose(trained[0], trained[1], atol=1e-3)   # (real and fake statistics do differ)


def test_discriminator_loss_halves_sum_to_the_min_max_loss():
    real, fake = torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    torch.testing.assert_close(losses.discriminator_nll_real(real) + losses.discriminator_nll_fake(fake),
                               losses.discriminator_nll(real, fake))
    p = torch.sigmoid(real.double()).flatten(1).mean(1)
    torch.testing.assert_close(losses.discriminator_nll_real(real).double(), -torch.log(p).mean())


# ---------------------------------------------------------------- SPSAGAN: ESRGAN's loss forms
def _ragan_numpy(real, fake):
    """ESRGAN's relativistic average losses computed independently (float64 numpy)."""
    r, f = real.detach().double().numpy().ravel(), fake.detach().double().numpy().ravel()
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    d_rf, d_fr = sig(r - f.mean()), sig(f - r.mean())
    d = -(np.log(d_rf).mean() + np.log(1 - d_fr).mean()) / 2
    g = -(np.log(1 - d_rf).mean() + np.log(d_fr).mean()) / 2
    return d, g


def test_relativistic_average_losses_match_esrgan_formulas():
    real, fake = torch.tensor([[2.0], [0.5], [-1.0]]), torch.tensor([[-0.3], [1.2], [-2.0]])
    d, g = _ragan_numpy(real, fake)
    assert losses.relativistic_discriminator(real, fake).item() == pytest.approx(d, rel=1e-6)
    assert losses.relativistic_generator(real, fake).item() == pytest.approx(g, rel=1e-6)
    # relativistic: shifting every logit by the same amount changes nothing (the standard GAN would change)
    assert losses.relativistic_generator(real + 3, fake + 3).item() == pytest.approx(g, rel=1e-5)


def test_pre_activation_vgg_features_are_the_conv_output_before_relu():
    from srbench.train.vgg import VGGFeatures

    pre = VGGFeatures("vgg19", "phi_5_4", random_init=True, pre_activation=True)
    post = VGGFeatures("vgg19", "phi_5_4", random_init=True)
    assert isinstance(pre.features[-1], nn.Conv2d) and isinstance(post.features[-1], nn.ReLU)
    x = torch.rand(1, 3, 32, 32)
    a, b = pre(x), post(x)
    assert (a < 0).any()
    torch.testing.assert_close(torch.relu(a), b)


def _spsagan_recipe(tmp_path):
    pattern = {"nf": 8, "gc": 4, "blocks": 1, "patterns": [[[0], [0, 1], [0, 2], [0, 3], [0, 1, 4]]] * 3}
    (tmp_path / "p.json").write_text(json.dumps(pattern))
    opts = {"nf": 8, "gc": 4, "blocks": 1, "pattern": str(tmp_path / "p.json"), "d_size": 32}
    return create_recipe("spsagan", TrainConfig(hr_patch=32, batch_size=3, random_vgg=True, options=opts))


def test_spsagan_uses_pre_activation_conv5_4_and_relativistic_gan(tmp_path):
    recipe = _spsagan_recipe(tmp_path)
    assert isinstance(recipe.vgg.features[-1], nn.Conv2d) and len(recipe.vgg.features) == 35
    calls = []
    recipe.nets["D"].register_forward_hook(lambda m, i, o: calls.append((i[0].detach().clone(), o.detach().clone())))
    batch = _batch(4, hr=32, n=3, seed=1)
    out = recipe.step(batch)
    # D update: real pass, fake pass; generator step: real pass (updated D), fake pass
    assert len(calls) == 4
    torch.testing.assert_close(calls[0][0], batch["hr"])
    torch.testing.assert_close(calls[2][0], batch["hr"])
    d_expect, _ = _ragan_numpy(calls[0][1], calls[1][1])
    _, g_expect = _ragan_numpy(calls[2][1], calls[3][1])
    assert out["loss_d"] == pytest.approx(d_expect, rel=1e-5)
    assert out["adv"] == pytest.approx(g_expect, rel=1e-5)


# ---------------------------------------------------------------- Stage-GAN: linear decay to zero
def _tiny_stage_gan(**extra):
    opts = dict(scale=4, ngf=4, depth=5, refiner_ngf=4, refiner_blocks=1, ndf=4, residual=0, gan_weight=1, **extra)
    return create_recipe("stage-gan", TrainConfig(hr_patch=32, options=opts))


def test_stage_gan_learning_rate_decays_linearly_to_zero():
    recipe = _tiny_stage_gan(lr_hold=2, lr_decay=4)
    lrs = {"G": [], "D": []}
    for step in range(7):
        recipe.step(_batch(4, hr=32, n=1, seed=step))
        for key in lrs:
            lrs[key].append(recipe.optimizers[key].param_groups[0]["lr"])
    expect = [2e-4 * f for f in (1, 1, 0.75, 0.5, 0.25, 0, 0)]
    for key in lrs:
        assert lrs[key] == pytest.approx(expect, abs=1e-12), key
    # the schedule is part of the checkpoint: a resumed recipe continues at the decayed rate
    resumed = _tiny_stage_gan(lr_hold=2, lr_decay=4)
    partial = _tiny_stage_gan(lr_hold=2, lr_decay=4)
    for step in range(3):
        partial.step(_batch(4, hr=32, n=1, seed=step))
    resumed.load_state_dict(partial.state_dict())
    resumed.step(_batch(4, hr=32, n=1, seed=3))
    assert resumed.optimizers["G"].param_groups[0]["lr"] == pytest.approx(1e-4)


def test_stage_gan_default_schedule_is_the_papers():
    from srbench_methods.stage_gan.recipe import LR_DECAY, LR_HOLD, linear_decay

    assert LR_HOLD == LR_DECAY == 100 * 400          # 100 epochs of 400 images at batch 1, twice
    f = linear_decay(LR_HOLD, LR_DECAY)
    assert f(0) == f(LR_HOLD - 1) == 1.0 and f(LR_HOLD + LR_DECAY // 2) == 0.5 and f(LR_HOLD + LR_DECAY) == 0.0
    recipe = _tiny_stage_gan()
    assert recipe.schedulers["G"].lr_lambdas[0](60_000) == 0.5


# ---------------------------------------------------------------- MR-SRGAN: best held-out SSIM
@pytest.fixture
def val_folder(tmp_path):
    folder = tmp_path / "val"
    folder.mkdir()
    yy, xx = np.mgrid[0:32, 0:36]
    for i in range(2):
        img = np.stack([128 + 90 * np.sin(xx / (4 + i) + c) * np.cos(yy / 6) for c in range(3)], axis=2)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"v{i}.png")
    return folder


def _mr_srgan(val_folder, **extra):
    opts = {"vgg_weight": 0, "val": str(val_folder), "val_every": 1, **extra}
    return create_recipe("mr-srgan", TrainConfig(hr_patch=16, batch_size=2, options=opts))


def test_mr_srgan_exports_the_best_ssim_generator(val_folder, monkeypatch):
    from srbench.train.selection import BestSSIM

    recipe = _mr_srgan(val_folder)
    scores = iter([0.5, 0.9, 0.3])
    monkeypatch.setattr(BestSSIM, "score", lambda self, net, device: next(scores))
    states = []
    for step in range(3):
        out = recipe.step(_batch(4, hr=16, n=2, seed=step))
        states.append({k: v.clone() for k, v in recipe.generator().state_dict().items()})
    assert out["best_ssim"] == 0.9 and out["best_step"] == 2
    exported = recipe.exported_state()
    assert all(torch.equal(exported[k], states[1][k]) for k in exported)      # step 2's weights ...
    assert not all(torch.equal(exported[k], states[2][k]) for k in exported)  # ... not the last ones


def test_mr_srgan_selection_scores_ssim_and_survives_resume(val_folder, tmp_path):
    from srbench import matlab
    from srbench.metrics.fidelity import ssim_index
    from srbench_methods.bi_gans_st.arch import MRSRGANGenerator

    cfg = lambda: TrainConfig(hr_patch=16, batch_size=2,  # noqa: E731
                              options={"vgg_weight": 0, "val": str(val_folder), "val_every": 2})
    train("mr-srgan", [str(val_folder)], 2, tmp_path / "run", cfg(), ckpt_every=1, progress=None)
    train("mr-srgan", [str(val_folder)], 4, tmp_path / "run", cfg(), resume=True, progress=None)
    rows = (tmp_path / "run" / "log.csv").read_text().splitlines()
    header = rows[0].split(",")
    last = dict(zip(header, rows[-1].split(",")))
    best_step, best = int(last["best_step"]), float(last["best_ssim"])
    assert best_step in (2, 4) and 0 < best < 1
    # the exported generator is the selected one: its held-out SSIM, computed here independently, is `best`
    net = MRSRGANGenerator(4)
    net.load_state_dict({k: v.float() for k, v in torch.load(tmp_path / "run" / GENERATOR).items()})
    net.eval()
    values = []
    for path in sorted(val_folder.iterdir()):
        hr = matlab.modcrop(np.asarray(Image.open(path).convert("RGB")), 4)
        lr = matlab.imresize(hr, 0.25)
        with torch.no_grad():
            sr = net(torch.from_numpy(lr.transpose(2, 0, 1)[None] / 255.0).float()).clamp(0, 1)[0]
        sr = np.rint(sr.numpy().transpose(1, 2, 0) * 255).astype(np.uint8)
        values.append(ssim_index(matlab.shave(matlab.rgb2y(sr), 4), matlab.shave(matlab.rgb2y(hr), 4)))
    assert np.mean(values) == pytest.approx(best, abs=2e-3)   # fp16 export of the weights
