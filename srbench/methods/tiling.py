"""Tiled inference: run a network tile by tile so large images fit in memory.

Each tile's *core* (a `tile` x `tile` block of input pixels) is run with `overlap` extra input pixels of
context on every side that the image has there; only the core's part of the output is kept. For a fully
convolutional network whose receptive-field radius is <= `overlap`, every kept output pixel is computed
from exactly the input values it sees in whole-image inference, including at the image borders (tiles
touching a border are not padded by us, so the network's own border padding applies there as on the
whole image). The arithmetic is therefore the same; the float32 results are bit-identical whenever the
backend sums in the same order, which CPU convolution kernels (oneDNN/GEMM pick a blocking per tensor
shape) do not always do for very small tiles or batches: differences are then at float rounding level
(~1e-8 relative), far below one uint8 level. Tiles whose padded input has the same shape can be run as
one batch (`max_batch` > 1).
"""
from __future__ import annotations

from typing import Callable

import torch


def _spans(length: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """(core_start, core_end, padded_start, padded_end) along one axis."""
    spans = []
    for start in range(0, length, tile):
        end = min(start + tile, length)
        spans.append((start, end, max(0, start - overlap), min(length, end + overlap)))
    return spans


def tiled_forward(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, out_scale: int, tile: int,
                  overlap: int, max_batch: int = 1) -> torch.Tensor:
    """Apply `fn` (NCHW -> NCHW with spatial size x `out_scale`) to `x` tile by tile.

    tile: core size in input pixels; overlap: context in input pixels (>= the receptive-field radius for
    a result identical to `fn(x)`). Returns the assembled output, the same as `fn(x)` would.
    """
    if tile <= 0 or overlap < 0:
        raise ValueError(f"tile must be > 0 and overlap >= 0 (got tile={tile}, overlap={overlap})")
    n, _, h, w = x.shape
    if h <= tile and w <= tile:
        return fn(x)
    s = out_scale
    jobs = [(r, c) for r in _spans(h, tile, overlap) for c in _spans(w, tile, overlap)]
    groups: dict[tuple[int, int], list] = {}
    for r, c in jobs:
        groups.setdefault((r[3] - r[2], c[3] - c[2]), []).append((r, c))
    out = None
    for group in groups.values():
        for first in range(0, len(group), max_batch):
            chunk = group[first:first + max_batch]
            batch = torch.cat([x[:, :, r[2]:r[3], c[2]:c[3]] for r, c in chunk], dim=0)
            y = fn(batch)
            if out is None:
                out = y.new_zeros((n, y.shape[1], h * s, w * s))
            for k, (r, c) in enumerate(chunk):
                piece = y[k * n:(k + 1) * n]
                top, left = (r[0] - r[2]) * s, (c[0] - c[2]) * s
                out[:, :, r[0] * s:r[1] * s, c[0] * s:c[1] * s] = \
                    piece[:, :, top:top + (r[1] - r[0]) * s, left:left + (c[1] - c[0]) * s]
    return out
