"""Stage-GAN and SPSAGAN: architectures against the papers, SPSA attention algebra, RRSB pruning rule,
segmentation priors, one training step per stage/method, and the shipped checkpoints."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from srbench.errors import UserError
from srbench.methods import discover_methods
from srbench.segmentation import (ClusterPrior, FolderPrior, content_key, kmeans, prior_from_spec, render_labels,
                                  soft_assign)
from srbench.train.recipe import TrainConfig

discover_methods()
from srbench_methods.spsagan import pruning  # noqa: E402
from srbench_methods.spsagan.arch import (SPSA, SPSAGAN_PAPER, SPSAGANConfig, SPSAGenerator,  # noqa: E402
                                          VGGDiscriminator, dense_pattern)
from srbench_methods.stage_gan.arch import (STAGE_GAN_PAPER, PatchDiscriminator, ResNetRefiner,  # noqa: E402
                                            StageGAN, StageGANConfig, UNetGenerator, count_parameters)

torch.set_num_threads(1)


# ---------------------------------------------------------------- Stage-GAN architecture
def unet_parameters(in_ch: int, out_ch: int, ngf: int, depth: int) -> int:
    """Hand count of the pix2pix-style U-Net: 4x4 convs without bias (BN follows or bottleneck), BN (2 per
    channel) everywhere but the first and bottleneck layers, only the output deconv has a bias."""
    ch = [ngf * min(2 ** k, 8) for k in range(depth)]
    total = in_ch * ch[0] * 16
    for k in range(1, depth):
        total += ch[k - 1] * ch[k] * 16 + (2 * ch[k] if k < depth - 1 else 0)
    for k in range(depth - 1, 0, -1):
        cin = ch[k] if k == depth - 1 else 2 * ch[k]
        total += cin * ch[k - 1] * 16 + 2 * ch[k - 1]
    return total + 2 * ch[0] * out_ch * 16 + out_ch


def test_stage_gan_unet_matches_pix2pix_size():
    net = UNetGenerator(3, 3, STAGE_GAN_PAPER.ngf, STAGE_GAN_PAPER.depth)
    assert count_parameters(net) == unet_parameters(3, 3, 64, 8)
    assert round(count_parameters(net) / 1e6, 3) == 54.414  # pix2pix's reported unet_256 size
    stage1 = UNetGenerator(6, 3, 64, 8)  # [MR, semantic map] input
    assert count_parameters(stage1) == unet_parameters(6, 3, 64, 8)


def test_stage2_refiner_size_and_layout():
    net = ResNetRefiner()
    # pix2pix's resnet_9blocks reports 11.378 M with (affine-free) instance norm and conv biases; with BN the
    # 5248 normalised channels carry 2 parameters each instead of one bias.
    assert count_parameters(net) == 11_378_179 + 5248
    blocks = [m for m in net.body if m.__class__.__name__ == "ResidualBlock"]
    assert len(blocks) == 9
    convs = [m for m in net.body if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert [c.kernel_size[0] for c in convs] == [7, 3, 3, 3, 3, 7]
    assert [c.stride[0] for c in convs] == [1, 2, 2, 2, 2, 1]


@pytest.mark.parametrize("in_ch", [6, 9])
def test_patchgan_output_is_30x30_on_256(in_ch):
    d = PatchDiscriminator(in_ch)
    cond = torch.zeros(1, in_ch - 3, 256, 256)
    with torch.no_grad():
        out = d(cond, torch.zeros(1, 3, 256, 256))
    assert out.shape == (1, 1, 30, 30)
    strides = [m.stride[0] for m in d.body if isinstance(m, torch.nn.Conv2d)]
    assert strides == [2, 2, 2, 1, 1]


def test_stage_gan_shapes_any_size():
    net = StageGAN(StageGANConfig(ngf=4, depth=4, refiner_ngf=4, refiner_blocks=2)).eval()
    x = torch.rand(1, 3, 37, 50) * 2 - 1
    with torch.no_grad():
        y = net(x)
        sem, s2, sr = net.stages(torch.zeros(2, 3, 32, 32))
    assert y.shape == x.shape and float(y.abs().max()) <= 1.0
    assert sem.shape == s2.shape == sr.shape == (2, 3, 32, 32)


# ---------------------------------------------------------------- SPSAGAN architecture
def test_spsagan_paper_sizes():
    trunk_only = SPSAGenerator(SPSAGANConfig(use_spsa=False))
    assert count_parameters(trunk_only) == 16_697_987  # ESRGAN's RRDB_PSNR_x4 generator (23 RRDB, nf 64, gc 32)
    full = SPSAGenerator(SPSAGAN_PAPER)
    c, inner, k = 64, 8, 8
    spsa = 4 * (c * inner + inner) + (c * c + c) + (k * c * 16 + c) + 2  # f/g x2, h, 4x4/4 transform, alpha, gamma
    assert count_parameters(full) - count_parameters(trunk_only) == spsa
    lr = torch.rand(1, 3, 8, 8)
    seg = torch.softmax(torch.randn(1, 8, 32, 32), 1)
    small = SPSAGenerator(SPSAGANConfig(nf=8, gc=4, blocks=1)).eval()
    with torch.no_grad():
        assert small(lr, seg).shape == (1, 3, 32, 32)
    assert VGGDiscriminator(8, 32)(torch.rand(2, 3, 32, 32)).shape == (2, 1)


def _spsa_inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 16, 5, 6, generator=g)
    seg = torch.softmax(torch.randn(2, 8, 20, 24, generator=g) * 3, dim=1)
    layer = SPSA(16, 8, 4, reduction=4)
    with torch.no_grad():
        for p in layer.parameters():
            p.normal_(0, 0.5, generator=g)
    return layer, x, seg


def test_spsa_fusion_weights_and_rows():
    layer, x, seg = _spsa_inputs()
    with torch.no_grad():
        maps = layer.attention_maps(x, seg)
    w = maps["w_seg"]
    assert w.shape == (2, 30, 30)
    assert float(w.min()) >= 0.0 and float(w.max()) <= 1.0 + 1e-6
    assert float(w.max()) > 0.3  # the two attentions do differ, the test is not vacuous
    for key in ("feature", "segmentation", "combined"):
        torch.testing.assert_close(maps[key].sum(-1), torch.ones(2, 30), atol=1e-5, rtol=0)
    # Eq. (5)-(6) by hand for one entry
    bf, bs = maps["feature"], maps["segmentation"]
    raw = (bs - bf).abs() / (bs + bf) * bs + (1 - (bs - bf).abs() / (bs + bf)) * bf
    torch.testing.assert_close(maps["combined"], raw / raw.sum(-1, keepdim=True))


def test_spsa_equal_attentions_give_feature_attention():
    b = torch.softmax(torch.randn(1, 4, 4), -1)
    w, comb = SPSA.combine(b, b.clone())
    assert float(w.abs().max()) == 0.0
    torch.testing.assert_close(comb, b)


def test_spsa_chunked_equals_full_attention():
    layer, x, seg = _spsa_inputs(1)
    with torch.no_grad():
        layer.gamma.fill_(0.7)
        maps = layer.attention_maps(x, seg)
        h = layer.h(x).flatten(2)  # B, C, N
        expected = x + 0.7 * (maps["combined"] @ h.transpose(1, 2)).transpose(1, 2).reshape(x.shape)
        for chunk in (7, 30, 1000):
            layer.chunk = chunk
            torch.testing.assert_close(layer(x, seg), expected, atol=1e-5, rtol=1e-5)


def test_spsa_alpha_initialised_from_feature_magnitudes():
    layer, x, seg = _spsa_inputs(2)
    layer.train()
    with torch.no_grad():
        layer.alpha_ready.fill_(False)
        z = layer.segmentation_features(x, seg)
    assert bool(layer.alpha_ready)
    assert abs(float(z.abs().mean()) - float(x.abs().mean())) < 1e-4 * float(x.abs().mean())
    with pytest.raises(ValueError):
        layer.segmentation_features(x, seg[..., :16, :16])


# ---------------------------------------------------------------- RRSB pruning
def test_two_means_and_prune_rule():
    low, lo, hi = pruning.two_means_1d(np.array([0.30, 0.05, 0.32, 0.07, 0.26]))
    assert low.tolist() == [False, True, False, True, False]
    assert lo == pytest.approx(0.06) and hi == pytest.approx(0.88 / 3)
    assert pruning.prune_layer(np.array([0.30, 0.05, 0.32, 0.07, 0.26])) == [2, 4]
    # two class means within 5 % of each other: keep everything
    assert pruning.prune_layer(np.array([0.34, 0.33, 0.33])) == []
    assert pruning.prune_layer(np.array([1.0])) == []


def test_dissimilarity_measure_and_pattern():
    x0 = torch.zeros(1, 4, 3, 3)
    x1 = torch.ones(1, 2, 3, 3)
    x2 = torch.full((1, 2, 3, 3), 3.0)
    x3 = torch.full((1, 2, 3, 3), 3.5)
    ds = pruning.dissimilarities([x0, x1, x2, x3])
    # layer 3: ||x1 - x3|| = 2.5*sqrt(18), ||x2 - x3|| = 0.5*sqrt(18)
    np.testing.assert_allclose(ds[3], [2.5 / 3.0, 0.5 / 3.0])
    np.testing.assert_allclose(ds[2], [1.0])
    pattern = pruning.prune_pattern({2: np.array([1.0]), 3: ds[3], 4: np.array([0.1, 0.45, 0.45]),
                                     5: np.array([0.25, 0.25, 0.25, 0.25])})
    assert pattern == ((0,), (0, 1), (0, 1), (0, 2, 3), (0, 1, 2, 3, 4))


def test_pruned_network_runs_and_is_smaller():
    dense = SPSAGenerator(SPSAGANConfig(nf=8, gc=4, blocks=1, use_spsa=False))
    rec = pruning.DissimilarityRecorder(dense.dense_blocks())
    rec.active = True
    with torch.no_grad():
        dense(torch.rand(2, 3, 6, 6))
    means = rec.means()
    assert len(means) == 3 and all(abs(m[4].sum() - 1) < 1e-9 for m in means)
    patterns = [((0,), (0, 1), (0, 2), (0, 3), (0, 1, 4))] * 3
    sparse = SPSAGenerator(SPSAGANConfig(nf=8, gc=4, blocks=1, use_spsa=False, patterns=tuple(patterns)))
    assert count_parameters(sparse) < count_parameters(dense)
    assert pruning.count_connections(patterns) < pruning.count_connections([dense_pattern()] * 3)
    assert sparse(torch.rand(1, 3, 6, 6)).shape == (1, 3, 24, 24)


def test_shipped_pattern_is_valid():
    from srbench_methods.spsagan.recipe import load_pattern

    pat = load_pattern()
    assert len(pat["patterns"]) == 3 * pat["blocks"]
    for block in pat["patterns"]:
        assert len(block) == 5 and all(0 in kept for kept in block)


# ---------------------------------------------------------------- segmentation priors
def test_kmeans_recovers_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[0.1, 0.1], [0.9, 0.2], [0.5, 0.9]])
    pts = np.concatenate([c + 0.02 * rng.standard_normal((200, 2)) for c in centres])
    found = kmeans(pts, 3, seed=1)
    np.testing.assert_allclose(found, centres[np.argsort(centres[:, 0])], atol=0.01)


def test_cluster_prior_probabilities():
    img = np.zeros((24, 32, 3), np.uint8)
    img[:, :16] = (30, 60, 200)      # flat blue
    img[:, 16:] = np.random.default_rng(0).integers(0, 255, (24, 16, 3))  # noise texture
    prior = ClusterPrior()
    p = prior.probabilities(img)
    assert p.shape == (24, 32, 8) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(2), 1.0, atol=1e-5)
    labels = prior.labels(img)
    assert labels[12, 2] != labels[12, 29]  # flat colour and texture fall in different classes
    assert prior.semantic_map(img).shape == (24, 32, 3)
    assert render_labels(np.array([[0, 7]])).shape == (1, 2, 3)
    # a softer temperature spreads the mass, a harder one approaches one-hot
    feats = np.array([[[0.5, 0.45, 0.53, 0.5]]])
    assert soft_assign(feats, prior.codebook, 0.01).max() > soft_assign(feats, prior.codebook, 0.2).max()


def test_folder_prior(tmp_path):
    img = np.random.default_rng(1).integers(0, 255, (8, 6, 3)).astype(np.uint8)
    maps = np.random.default_rng(2).random((8, 4, 3))
    maps /= maps.sum(0, keepdims=True)
    np.save(tmp_path / f"{content_key(img)}.npy", maps.astype(np.float32))  # KxHxW at a third of the size
    prior = prior_from_spec(f"folder:{tmp_path}")
    assert isinstance(prior, FolderPrior)
    p = prior.probabilities(img)
    assert p.shape == (8, 6, 8)
    np.testing.assert_allclose(p.sum(2), 1.0, atol=1e-5)
    np.save(tmp_path / "bad.npy", -np.ones((8, 6, 8)))
    with pytest.raises(UserError, match="bad.npy"):
        prior.probabilities(img, key="bad")
    with pytest.raises(UserError, match="no probability map"):
        prior.probabilities(img[:4], key="missing")
    with pytest.raises(UserError):
        prior_from_spec("deeplab")


def test_runner_finds_user_maps_by_image_name(tmp_path, monkeypatch):
    """`srbench run` hands the image name to SPSAGAN, so the user's maps can be named after the images."""
    from PIL import Image

    from srbench.cli import main

    hr = np.random.default_rng(3).integers(0, 255, (32, 24, 3)).astype(np.uint8)
    (tmp_path / "data" / "Tiny" / "HR").mkdir(parents=True)
    Image.fromarray(hr).save(tmp_path / "data" / "Tiny" / "HR" / "cat.png")
    maps = tmp_path / "maps"
    maps.mkdir()
    monkeypatch.setenv("SRBENCH_SEG_PRIOR", f"folder:{maps}")
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    args = ["run", "--methods", "spsagan", "--datasets", "Tiny", "--scale", "4", "--metrics", "psnr_y",
            "--data-root", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--no-report", "--quiet"]
    assert main(args) == 1   # no map yet: the image fails (errors.csv says why), the run goes on
    assert "cat.npy" in (tmp_path / "run" / "errors.csv").read_text()
    one_hot = np.zeros((8, 32, 24), np.float32)
    one_hot[2] = 1.0
    np.save(maps / "cat.npy", one_hot)
    assert main(args) == 0
    # an edited map must not be served from the SR cache of the old one
    from srbench.segmentation import prior_from_spec

    before = prior_from_spec(f"folder:{maps}").identity
    one_hot[2], one_hot[5] = 0.0, 1.0
    np.save(maps / "cat.npy", one_hot[:, :16, :12])
    assert prior_from_spec(f"folder:{maps}").identity != before


# ---------------------------------------------------------------- one training step each
def _batch(scale, hr=32, n=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    hr_t = torch.randint(0, 256, (n, 3, hr, hr), generator=g).float() / 255
    lr_t = torch.nn.functional.avg_pool2d(hr_t, scale)
    return {"lr": (lr_t * 255).round() / 255, "hr": hr_t}


def _snapshot(net):
    return [p.detach().clone() for p in net.parameters()]


def _changed(before, net):
    return [not torch.equal(a, b) for a, b in zip(before, net.parameters())]


@pytest.mark.parametrize("scale", [4, 8])
def test_stage_gan_one_step_every_stage(scale):
    from srbench.train.loop import create_recipe

    opts = dict(scale=scale, ngf=4, depth=5, refiner_ngf=4, ndf=8, residual=0, gan_weight=1)
    recipe = create_recipe("stage-gan", TrainConfig(hr_patch=32, options=opts))
    assert recipe.config.scale == scale
    G = recipe.nets["G"]
    before = {k: _snapshot(getattr(G, k)) for k in ("stage0", "stage1", "stage2")}
    d_before = {k: _snapshot(recipe.nets[k]) for k in ("D0", "D1", "D2")}
    out = recipe.step(_batch(scale))
    assert all(np.isfinite(v) for v in out.values()) and out["adv"] > 0
    for k in before:
        assert any(_changed(before[k], getattr(G, k))), k
    for k in d_before:
        assert any(_changed(d_before[k], recipe.nets[k])), k


@pytest.mark.parametrize("recipe_name", ["spsagan-rrdb", "spsagan-psnr", "spsagan"])
def test_spsagan_one_step(recipe_name, tmp_path):
    from srbench.train.loop import create_recipe

    pattern = {"nf": 8, "gc": 4, "blocks": 1, "patterns": [[[0], [0, 1], [0, 2], [0, 3], [0, 1, 4]]] * 3}
    (tmp_path / "p.json").write_text(json.dumps(pattern))
    opts = {"nf": 8, "gc": 4, "blocks": 1, "pattern": str(tmp_path / "p.json"), "d_size": 32}
    recipe = create_recipe(recipe_name, TrainConfig(hr_patch=32, batch_size=2, random_vgg=True, options=opts))
    G = recipe.nets["G"]
    before = _snapshot(G)
    out = recipe.step(_batch(4, n=2))
    assert all(np.isfinite(v) for v in out.values())
    changed = dict(zip([n for n, _ in G.named_parameters()], _changed(before, G)))
    assert changed["conv_first.weight"] and changed["conv_last.weight"]
    if recipe_name == "spsagan":
        assert changed["spsa.gamma"] and "percep" in out and "loss_d" in out
        assert bool(G.spsa.alpha_ready)


# ---------------------------------------------------------------- shipped checkpoints
@pytest.mark.parametrize("name,scale", [("stage-gan", 4), ("stage-gan", 8), ("spsagan", 4)])
def test_shipped_checkpoint_runs(name, scale):
    from srbench.methods import create_method

    method = create_method(name)
    lr = np.random.default_rng(0).integers(0, 255, (12, 10, 3)).astype(np.uint8)
    out = method.super_resolve(lr, scale)
    assert out.pixels.shape == (12 * scale, 10 * scale, 3) and out.pixels.dtype == np.uint8
    assert method.identity(scale).startswith(f"{name}:x{scale}:sha256:")


# ---------------------------------------------------------------- CMP Facades code path
@pytest.mark.parametrize("layout", ["pix2pix", "cmp"])
def test_facades_pairs_feed_the_recipe(tmp_path, layout):
    from PIL import Image

    from srbench.train.loop import create_recipe
    from srbench_methods.stage_gan.facades import FacadesSampler, as_facades_folder, find_pairs

    split = tmp_path / "Facades" / "train"
    split.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for k in range(2):
        photo = rng.integers(0, 255, (64, 64, 3)).astype(np.uint8)
        label = np.repeat(np.repeat(rng.integers(0, 4, (4, 4)), 16, 0), 16, 1).astype(np.uint8)
        if layout == "pix2pix":
            lab_rgb = np.stack([label * 60] * 3, axis=2).astype(np.uint8)
            Image.fromarray(np.concatenate([photo, lab_rgb], axis=1)).save(split / f"{k}.png")
        else:
            Image.fromarray(photo).save(split / f"cmp_b{k:04d}.jpg", quality=95)
            pal = Image.fromarray(label, mode="P")
            pal.putpalette([0, 0, 170, 0, 85, 255, 255, 170, 0, 170, 0, 0] + [0] * 756)
            pal.save(split / f"cmp_b{k:04d}.png")
    root = as_facades_folder(tmp_path)
    assert root is not None and len(find_pairs(root)) == 2
    sampler = FacadesSampler(root, scale=8)
    batch = sampler.batch(0)
    assert batch["hr"].shape == batch["sem"].shape == (1, 3, 256, 256) and batch["lr"].shape == (1, 3, 32, 32)
    assert len(torch.unique(batch["sem"][0, 0])) <= 4  # label colours survive the nearest-neighbour resize
    recipe = create_recipe("stage-gan", TrainConfig(options=dict(scale=8, ngf=4, depth=6, refiner_ngf=4,
                                                                 refiner_blocks=1, ndf=4, gan_weight=0)))
    target = recipe.semantic_target(batch)
    torch.testing.assert_close(target, batch["sem"] * 2 - 1)
    assert np.isfinite(recipe.step(batch)["l1_sem"])

    # `srbench train stage-gan --data <folder holding Facades>` trains on the pairs, adversarial phase included
    from srbench.train.loop import train

    opts = dict(scale=8, ngf=4, depth=6, refiner_ngf=4, refiner_blocks=1, ndf=4, gan_weight=1)
    train("stage-gan", [str(tmp_path)], 1, tmp_path / "run", TrainConfig(options=opts), progress=None)
    assert json.loads((tmp_path / "run" / "run-0.json").read_text())["images"] == 2
    log = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert "loss_d" in log[0] and len(log) == 2


def test_spsa_chunk_respects_memory_budget():
    layer = SPSA(16, 8, 4)
    layer.chunk = 1024
    assert layer.chunk_for(32 * 32) == 1024               # small inputs: the configured chunk
    n = 512 * 512                                          # 512x512 LR: 6 * chunk * N * 4 bytes <= 512 MiB
    chunk = layer.chunk_for(n)
    assert 6 * chunk * n * 4 <= layer.max_attention_bytes < 6 * (chunk + 1) * n * 4


@pytest.mark.parametrize("name,scale", [("stage-gan", 4), ("stage-gan", 8), ("spsagan", 4)])
def test_shipped_checkpoint_beats_bicubic(shared_datasets, name, scale):
    """The srbench-trained (L1-dominated) checkpoints must beat MATLAB bicubic in Y-PSNR on Set5 images."""
    from set5_gain import psnr_gains_over_bicubic

    gains = psnr_gains_over_bicubic(shared_datasets, name, scale, images=("bird", "butterfly"))
    assert min(gains) > 0.2, gains
