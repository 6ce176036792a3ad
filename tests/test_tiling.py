"""Tiled inference equals whole-image inference when the overlap covers the receptive field."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from srbench.methods.tiling import tiled_forward

# float32 CPU convolutions may sum in a different order for different tensor shapes: allow that, and
# nothing more (a misplaced or under-contextualised tile is off by orders of magnitude more).
FLOAT_ROUNDING = 1e-6


def _net(scale: int) -> nn.Module:
    # Receptive-field radius: 2 (5x5) + 1 + 1 (3x3) = 4 LR pixels; zero padding at the image borders.
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 5, padding=2), nn.Tanh(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(8, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale)).eval()


def _compare(shape, tile, scale, overlap, max_batch=1):
    net = _net(scale)
    x = torch.rand(1, 3, *shape, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        whole = net(x)
        tiled = tiled_forward(net, x, scale, tile=tile, overlap=overlap, max_batch=max_batch)
    assert tiled.shape == whole.shape
    return tiled, whole


@pytest.mark.parametrize("shape,tile,scale", [((37, 29), 8, 2), ((20, 33), 7, 3), ((16, 16), 5, 1)])
def test_tiles_match_whole_image(shape, tile, scale):
    tiled, whole = _compare(shape, tile, scale, overlap=4)
    assert (tiled - whole).abs().max().item() <= FLOAT_ROUNDING


def test_batched_tiles_agree_to_float_rounding():
    tiled, whole = _compare((37, 29), 8, 2, overlap=4, max_batch=4)
    assert (tiled - whole).abs().max().item() <= FLOAT_ROUNDING


def test_too_small_overlap_changes_the_output():
    # The same comparison fails when the context is shorter than the receptive field.
    tiled, whole = _compare((30, 30), 8, 2, overlap=2)
    assert (tiled - whole).abs().max().item() > 1e-3


def test_batches_of_equal_tiles_and_small_images():
    calls = []

    def fn(t):
        calls.append(t.shape[0])
        return t * 2

    x = torch.rand(1, 1, 40, 40)
    assert torch.equal(tiled_forward(fn, x, 1, tile=10, overlap=3, max_batch=4), x * 2)
    assert max(calls) == 4 and sum(calls) == 16  # 16 tiles, grouped by padded size
    calls.clear()
    assert torch.equal(tiled_forward(fn, x, 1, tile=64, overlap=3), x * 2) and calls == [1]


def test_rejects_bad_tile_arguments():
    with pytest.raises(ValueError):
        tiled_forward(lambda t: t, torch.zeros(1, 1, 4, 4), 1, tile=0, overlap=1)


# Networks with a small receptive field, so that a small image still spans several real tiles (the
# deep ones would need images too large for a quick test; the mechanism is the same).
@pytest.mark.parametrize("method,scale,size", [("fsrcnn", 3, (30, 26)), ("srcnn", 3, (12, 10)),
                                               ("espcn", 4, (24, 20))])
def test_pretrained_methods_tiled_equal_whole(shared, method, scale, size):
    """Zoo networks tiled with their declared receptive field as overlap, against whole-image."""
    from srbench.methods import create_method

    torch.set_num_threads(1)
    lr = np.random.default_rng(3).integers(0, 256, size=size + (3,), dtype=np.uint8)
    whole, tiled = create_method(method), create_method(method, tile=8)
    spec = whole.input_spec
    x = lr.astype(np.float64) / 255.0 * spec.value_range
    if spec.channels == "y":
        x = x[:, :, :1]
    if spec.pre_upsample:
        x = np.repeat(np.repeat(x, scale, axis=0), scale, axis=1)
    a, b = whole.run_network(x, scale), tiled.run_network(x, scale)
    assert np.abs(a - b).max() <= FLOAT_ROUNDING * spec.value_range * 10
    # The quantised network output the benchmark scores: only a value within float rounding of a .5
    # boundary may round the other way (one level; a colour conversion afterwards can spread it).
    sr_whole, sr_tiled = whole.super_resolve(lr, scale), tiled.super_resolve(lr, scale)
    planes = [(sr_whole.native_y, sr_tiled.native_y)] if sr_whole.native_y is not None else \
        [(sr_whole.pixels, sr_tiled.pixels)]
    for p, q in planes:
        diff = np.abs(np.asarray(p, np.float64) - np.asarray(q, np.float64))
        assert diff.max() <= 1 and np.count_nonzero(diff) <= max(1, diff.size // 1000)
