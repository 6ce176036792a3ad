"""Visual comparison crops: the same window of every method's output beside HR and bicubic, placed where
the methods disagree most (as the papers' figures zoom into the region that tells methods apart)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import matlab
from ..errors import SrbenchError, UserError
from ..imageio import read_image, write_png_atomic
from .leaderboard import Board, format_value
from .rundata import RunData

MAX_OVERVIEW_WIDTH = 320


@dataclass
class Tile:
    label: str
    src: str          # path relative to the report directory
    caption: str = ""


@dataclass
class Comparison:
    image: str
    box: tuple[int, int, int]      # top, left, size in SR pixels
    score: float                   # mean disagreement inside the box
    overview: str | None = None
    tiles: list[Tile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def crop_size(height: int, width: int) -> int:
    return int(min(max(min(height, width) // 4, 16), 96, height, width))


def window_means(score_map: np.ndarray, size: int) -> np.ndarray:
    """Mean of `score_map` over every size x size window (top-left indexed), via a summed-area table."""
    table = np.pad(score_map.astype(np.float64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = table[size:, size:] - table[:-size, size:] - table[size:, :-size] + table[:-size, :-size]
    return sums / (size * size)


def disagreement_map(outputs: list[np.ndarray], hr: np.ndarray | None) -> np.ndarray:
    """Per-pixel variance across methods; with a single method, its squared error against HR."""
    stack = np.stack([np.asarray(o, np.float32) for o in outputs])  # float32: 10 methods of a 1024x768 image fit easily
    if len(outputs) >= 2:
        return stack.var(axis=0).mean(axis=2)
    if hr is not None:
        return ((stack[0] - hr.astype(np.float64)) ** 2).mean(axis=2)
    return np.zeros(stack.shape[1:3])


def choose_box(outputs: list[np.ndarray], hr: np.ndarray | None) -> tuple[tuple[int, int, int], float]:
    height, width = outputs[0].shape[:2]
    size = crop_size(height, width)
    means = window_means(disagreement_map(outputs, hr), size)
    top, left = np.unravel_index(int(np.argmax(means)), means.shape)
    return (int(top), int(left), size), float(means[top, left])


def _rgb(img: np.ndarray) -> np.ndarray:
    return np.repeat(img, 3, axis=2) if img.shape[2] == 1 else img


def find_hr(run: RunData, dataset: str, image: str) -> Path | None:
    root = run.dataset_root(dataset)
    if root is None:
        return None
    for candidate in (root / image, root / f"{image}.png", root / "HR" / image, root / "HR" / f"{image}.png"):
        if candidate.is_file():
            return candidate
    matches = sorted(root.glob(f"{image}.*")) + sorted((root / "HR").glob(f"{image}.*"))
    return matches[0] if matches else None


def load_hr(run: RunData, dataset: str, scale: int, image: str, shape) -> np.ndarray | None:
    path = find_hr(run, dataset, image)
    if path is None:
        return None
    try:
        hr = _rgb(matlab.modcrop(read_image(path), scale))
    except UserError:
        return None
    return hr if hr.shape[:2] == tuple(shape) else None


def bicubic_reference(run: RunData, hr: np.ndarray, scale: int) -> np.ndarray | None:
    """Bicubic upscaling of the run's LR input, for runs that did not include the bicubic method."""
    try:
        from ..degradations import degrade

        name = str((run.info.get("config") or {}).get("degradation") or "bicubic")
        return _rgb(matlab.imresize(degrade(name, hr, scale), scale))
    except (SrbenchError, ValueError, OSError):  # a missing reference only removes one tile from the page
        return None


def _load_outputs(run: RunData, board: Board, image: str) -> dict[str, np.ndarray]:
    outputs = {}
    for method in board.methods:
        path = run.sr_path(method, board.dataset, board.scale, image)
        if path.is_file():
            try:
                outputs[method] = _rgb(read_image(path))
            except UserError:
                continue
    shape = next(iter(outputs.values())).shape if outputs else None
    return {m: o for m, o in outputs.items() if o.shape == shape}


def _caption(run: RunData, board: Board, method: str, image: str) -> str:
    rows = run.per_image[(run.per_image["method"] == method) & (run.per_image["dataset"] == board.dataset)
                         & (run.per_image["scale"] == board.scale) & (run.per_image["image"] == image)]
    if rows.empty:
        return ""
    parts = [f"{m} {format_value(float(rows[m].iloc[0]))}" for m in board.metrics[:2] if m in rows.columns]
    return " · ".join(parts)


def _overview(img: np.ndarray, box: tuple[int, int, int]) -> np.ndarray:
    """The whole image, subsampled to a thumbnail, with the crop outlined in red."""
    step = max(1, -(-img.shape[1] // MAX_OVERVIEW_WIDTH))
    thumb = img[::step, ::step].copy()
    top, left, size = (v // step for v in box)
    bottom, right = min(top + max(size, 4), thumb.shape[0]), min(left + max(size, 4), thumb.shape[1])
    outline = np.zeros(thumb.shape[:2], bool)
    outline[top:bottom, left:right] = True
    outline[top + 2:bottom - 2, left + 2:right - 2] = False  # a 2-px frame stays visible when scaled down
    thumb[outline] = (255, 0, 0)
    return thumb


def build_comparisons(run: RunData, board: Board, out_dir: Path, rel_prefix: str,
                      max_images: int = 8) -> list[Comparison]:
    """Crops for the `max_images` images where the methods disagree most; files go under out_dir."""
    images = sorted(set(run.per_image.loc[(run.per_image["dataset"] == board.dataset)
                                          & (run.per_image["scale"] == board.scale), "image"]))
    scored = []
    for image in images:  # one image at a time keeps memory to one image's outputs
        outputs = _load_outputs(run, board, image)
        if not outputs:
            continue
        first = next(iter(outputs.values()))
        hr = load_hr(run, board.dataset, board.scale, image, first.shape[:2])
        box, score = choose_box(list(outputs.values()), hr)
        scored.append((score, image, box))
    scored.sort(key=lambda item: (-item[0], item[1]))

    comparisons = []
    for index, (score, image, box) in enumerate(scored[:max_images]):
        outputs = _load_outputs(run, board, image)
        first = next(iter(outputs.values()))
        hr = load_hr(run, board.dataset, board.scale, image, first.shape[:2])
        comp = Comparison(image=image, box=box, score=score)
        top, left, size = box
        panels: list[tuple[str, np.ndarray, str]] = []
        if hr is not None:
            panels.append(("HR", hr, "ground truth"))
        else:
            comp.notes.append("HR image not found: dataset root from run.json is not readable here")
        if "bicubic" not in outputs and hr is not None:
            bicubic = bicubic_reference(run, hr, board.scale)
            if bicubic is not None and bicubic.shape == hr.shape:
                panels.append(("bicubic (reference)", bicubic, "recomputed from the run's degradation"))
        ordered = sorted(outputs, key=lambda m: m != "bicubic")  # bicubic first, as in the papers
        panels += [(m, outputs[m], _caption(run, board, m, image)) for m in ordered]
        for k, (label, img, caption) in enumerate(panels):
            name = f"{index:03d}_{k:02d}.png"
            write_png_atomic(out_dir / name, img[top:top + size, left:left + size])
            comp.tiles.append(Tile(label=label, src=f"{rel_prefix}/{name}", caption=caption))
        name = f"{index:03d}_overview.png"
        write_png_atomic(out_dir / name, _overview(hr if hr is not None else first, box))
        comp.overview = f"{rel_prefix}/{name}"
        comparisons.append(comp)
    return comparisons
