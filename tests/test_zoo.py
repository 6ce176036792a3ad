"""The pretrained method zoo: registration, provenance, weights layouts, conventions, and quality on crops."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from srbench import matlab
from srbench.archs import get_arch
from srbench.errors import AssetError, Unavailable, UserError
from srbench.methods import create_method, discover_methods, methods_dir
from srbench.methods.generic import create_generic_method, register_yaml_method
from srbench.metrics.fidelity import psnr

ZOO = {"srcnn": (3, 4), "fsrcnn": (2, 3, 4), "espcn": (2, 3, 4), "vdsr": (2, 3, 4), "lapsrn": (2, 4),
       "srgan-pytorch": (4,), "enhancenet": (4,)}
# Parameter counts of the checkpoints as documented in shared/weights/WEIGHTS.md.
PARAMS = {("srcnn", 4): 57_281, ("srcnn", 3): 8_129, ("fsrcnn", 2): 12_809, ("espcn", 2): 26_796,
          ("espcn", 3): 31_131, ("espcn", 4): 37_200, ("vdsr", 2): 664_704, ("lapsrn", 4): 870_112,
          ("srgan-pytorch", 4): 735_372, ("enhancenet", 4): 852_867}
RAW = re.compile(r"^https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}/\S+$")


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_zoo_methods_registered_with_scales():
    methods = discover_methods()
    for name, scales in ZOO.items():
        assert name in methods
        assert create_method(name).scales == scales
    # The SRGAN-paper names belong to srbench-trained models, not to this adapter.
    assert create_method("srgan-pytorch").name == "srgan-pytorch"


@pytest.mark.parametrize("name", sorted(ZOO))
def test_weights_provenance_and_model_card(name):
    method = create_method(name)
    for wf in method.weights.values():
        assert re.fullmatch(r"[0-9a-f]{64}", wf.asset.sha256)
        assert wf.asset.shared_subpath.startswith("weights/")
        assert wf.licence and re.search(r"@[0-9a-f]{40}:", wf.source)
        url = wf.asset.urls[0] if wf.asset.urls else wf.original_url
        assert RAW.match(url), url
        if not wf.asset.urls:  # a converted file: the original is downloadable, verified and convertible
            assert re.fullmatch(r"[0-9a-f]{64}", wf.original_sha256)
            assert wf.original.urls == [wf.original_url] and wf.original.sha256 == wf.original_sha256
            assert wf.convert is not None
    folder = Path(type(method).__module__.split(".")[1])
    card = (methods_dir() / folder / "MODEL_CARD.md").read_text(encoding="utf-8")
    for needed in ("Set5", "PSNR", "Training data", "Licence"):
        assert needed in card, f"{folder}/MODEL_CARD.md lacks {needed}"


@pytest.mark.parametrize("name,scale", sorted(PARAMS))
def test_checkpoints_load_into_their_architectures(shared, name, scale):
    net = create_method(name).prepare(scale)
    # WEIGHTS.md counts every stored tensor (batch-norm running statistics included).
    stored = sum(v.numel() for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked"))
    assert stored == PARAMS[(name, scale)]
    assert not net.training


def test_srcnn_matlab_conversion_matches_the_converted_file(shared):
    from srbench_methods.srcnn.adapter import state_from_matlab

    ours = state_from_matlab(shared / "weights/srcnn/x4.mat")
    ref = torch.load(shared / "weights/srcnn/srcnn_955_x4.state_dict.pth", weights_only=True)
    assert set(ours) == set(ref)
    for key in ref:
        assert torch.equal(ours[key], ref[key]), key


def test_enhancenet_tf_checkpoint_reads_to_the_converted_file(shared):
    from srbench_methods.enhancenet.tf_checkpoint import enhancenet_state_from_tf

    ours = enhancenet_state_from_tf(shared / "weights/enhancenet/weights")
    ref = torch.load(shared / "weights/enhancenet/enhancenet_pat_x4.state_dict.pth", weights_only=True)
    assert set(ours) == set(ref)
    assert all(torch.equal(ours[k], ref[k]) for k in ref)


def test_tf_checkpoint_reader_refuses_other_files(tmp_path):
    discover_methods()
    from srbench_methods.enhancenet.tf_checkpoint import read_tf1_checkpoint

    bad = tmp_path / "not_a_checkpoint"
    bad.write_bytes(b"\0" * 100)
    with pytest.raises(AssetError, match="not_a_checkpoint: cannot read"):
        read_tf1_checkpoint(bad)


def test_srcnn_x3_valid_model_returns_hr_size_with_interior_unchanged(shared):
    method = create_method("srcnn")
    net = method.prepare(3)
    x = torch.rand(1, 1, 30, 27)
    with torch.inference_mode():
        padded = net(x)
        valid = net.conv3(torch.relu(net.conv2(torch.relu(net.conv1(x)))))
    assert padded.shape == x.shape
    assert torch.equal(padded[:, :, 6:-6, 6:-6], valid)


def _crop_pair(shared_datasets, scale: int, size: int = 48):
    from PIL import Image

    hr = np.array(Image.open(shared_datasets / "Set5/HR/butterfly.png").convert("RGB"))
    top, left = 96, 96
    hr = matlab.modcrop(hr[top:top + size, left:left + size], scale)
    return hr, matlab.imresize(hr, 1 / scale)


@pytest.mark.parametrize("name,scale", [(n, s) for n, scales in ZOO.items() for s in scales
                                        if (n, s) not in {("vdsr", 3), ("fsrcnn", 2), ("espcn", 2)}])
def test_every_method_beats_bicubic_on_a_crop(shared, shared_datasets, name, scale):
    hr, lr = _crop_pair(shared_datasets, scale)
    out = create_method(name).super_resolve(lr, scale)
    assert out.pixels.shape == hr.shape and out.pixels.dtype == np.uint8
    y_hr = matlab.shave(matlab.rgb2y(hr), scale)
    y_sr = matlab.shave(out.native_y if out.native_y is not None else matlab.rgb2y(out.pixels), scale)
    y_bic = matlab.shave(matlab.rgb2y(matlab.imresize(lr, scale)), scale)
    assert psnr(y_sr, y_hr) > psnr(y_bic, y_hr) + 0.5


def test_unsupported_scale_is_unavailable():
    with pytest.raises(Unavailable, match="x3"):
        create_method("lapsrn").prepare(3)


def test_grey_input_stays_grey(shared):
    lr = np.random.default_rng(0).integers(16, 236, size=(9, 8, 1), dtype=np.uint8)
    for name, scale in (("espcn", 2), ("fsrcnn", 2)):
        out = create_method(name).super_resolve(lr, scale)
        assert out.pixels.shape == (18, 16, 1)


# ---- EnhanceNet's TensorFlow-1 bicubic skip

def test_tf_legacy_bicubic_samples_at_dst_over_scale():
    from srbench_methods.enhancenet.arch import tf_legacy_resize_bicubic

    x = torch.rand(1, 2, 7, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y = tf_legacy_resize_bicubic(x, 4)
    assert y.shape == (1, 2, 28, 24)
    # Source coordinate = dst / 4: every 4th output pixel is an input pixel (no half-pixel shift).
    assert torch.allclose(y[:, :, ::4, ::4], x, atol=1e-12)
    # A quarter pixel in, the Keys kernel with a = -0.75 (TF's legacy coefficient), interior row 2.
    a, d = -0.75, 0.25

    def k(t):
        t = abs(t)
        return ((a + 2) * t - (a + 3)) * t * t + 1 if t <= 1 else ((a * t - 5 * a) * t + 8 * a) * t - 4 * a

    w = torch.tensor([k(1 + d), k(d), k(1 - d), k(2 - d)], dtype=torch.float64)
    expected = (x[:, :, 1:5, 0] * w).sum(-1)
    assert torch.allclose(y[:, :, 9, 0], expected, atol=1e-12)
    # Clamped borders: a constant image stays constant.
    assert torch.allclose(tf_legacy_resize_bicubic(torch.full((1, 1, 3, 3), 0.3), 4), torch.tensor(0.3))


def test_tf_legacy_bicubic_tiles_exactly():
    from srbench.methods.tiling import tiled_forward
    from srbench_methods.enhancenet.arch import tf_legacy_resize_bicubic

    x = torch.rand(1, 3, 19, 17, dtype=torch.float64)
    fn = lambda t: tf_legacy_resize_bicubic(t, 4)  # noqa: E731
    assert torch.allclose(tiled_forward(fn, x, 4, tile=5, overlap=2), fn(x), atol=1e-12)


# ---- generic adapter and architecture registry

def test_generic_checkpoint_roundtrip_with_basicsr_wrapper(tmp_path):
    from srbench.archs.msrresnet import MSRResNet

    torch.manual_seed(0)
    net = MSRResNet(scale=2, num_feat=8, num_block=2).eval()
    torch.save({"params_ema": net.state_dict()}, tmp_path / "msr.pth")
    method = create_generic_method(f"torch:{tmp_path / 'msr.pth'}", "MSRResNet")
    lr = np.random.default_rng(1).integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
    with torch.inference_mode():
        ref = net(torch.from_numpy(lr.transpose(2, 0, 1)[None] / 255.0).float())[0].numpy().transpose(1, 2, 0)
    assert np.array_equal(method.super_resolve(lr, 2).pixels, matlab.im2uint8(ref.astype(np.float64)))


def test_original_esrgan_keys_are_renamed(tmp_path):
    from srbench.archs.rrdbnet import RRDBNet

    net = RRDBNet(scale=4, num_feat=8, num_block=1, num_grow_ch=4)
    renames = {"body.": "RRDB_trunk.", "conv_body.": "trunk_conv.", "conv_up1.": "upconv1.",
               "conv_up2.": "upconv2.", "conv_hr.": "HRconv."}
    old = {}
    for key, value in net.state_dict().items():
        head = next((h for h in renames if key.startswith(h)), None)
        key = renames[head] + key[len(head):] if head else key
        old[re.sub(r"\.rdb(\d)\.", r".RDB\1.", key)] = value
    assert any(k.startswith("RRDB_trunk.0.RDB1.") for k in old)
    torch.save(old, tmp_path / "esrgan.pth")
    method = create_generic_method(f"torch:{tmp_path / 'esrgan.pth'}", "RRDBNet")
    loaded = method.prepare(4)
    for key, value in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)


def test_yaml_method_folder(tmp_path):
    from srbench.archs.msrresnet import MSRResNet

    folder = tmp_path / "mynet"
    folder.mkdir()
    torch.save(MSRResNet(scale=3, num_feat=8, num_block=1).state_dict(), folder / "w.pth")
    (folder / "method.yaml").write_text("name: my-msr-test\narch: MSRResNet\nweights: w.pth\nscales: [3]\n")
    method = create_generic_method(f"torch:{folder / 'method.yaml'}")
    assert method.name == "my-msr-test" and method.scales == (3,)
    assert method.super_resolve(np.zeros((5, 4, 3), np.uint8), 3).pixels.shape == (15, 12, 3)
    # Registered from a folder: missing weights are a skip with a reason, not a crash.
    gone = tmp_path / "gone"
    gone.mkdir()
    (gone / "method.yaml").write_text("name: my-missing-test\narch: RRDBNet\nweights: nothing.pth\n")
    assert register_yaml_method(gone / "method.yaml") == "my-missing-test"
    with pytest.raises(Unavailable, match="nothing.pth"):
        create_method("my-missing-test").prepare(4)


def test_generic_user_errors(tmp_path):
    with pytest.raises(UserError, match="--arch"):
        create_generic_method(f"torch:{tmp_path / 'x.pth'}")
    with pytest.raises(UserError, match="did you mean 'RRDBNet'"):
        get_arch("RRDBnet")
    with pytest.raises(UserError, match="no such file"):
        create_generic_method(f"torch:{tmp_path / 'missing.pth'}", "RRDBNet")
    (tmp_path / "bad.yaml").write_text("arch: RRDBNet\nweights: w.pth\ncolour: yes\n")
    with pytest.raises(UserError, match="unknown keys"):
        create_generic_method(f"torch:{tmp_path / 'bad.yaml'}")
    torch.save({"foo.weight": torch.zeros(2)}, tmp_path / "wrong.pth")
    with pytest.raises(AssetError, match="wrong.pth: does not match"):
        create_generic_method(f"torch:{tmp_path / 'wrong.pth'}", "MSRResNet").prepare(4)


def test_zoo_architectures_are_available_to_the_generic_adapter():
    for name in ("RRDBNet", "MSRResNet", "srcnn-955", "fsrcnn", "espcn", "vdsr", "lapsrn", "enhancenet",
                 "srgan-leftthomas"):
        assert get_arch(name).name == name
