"""Figures: labels never overlap (measured through the renderer), the legend never covers a point, PIRM
regions only at x4, axes fitted to the data, colour/marker by provenance, file names saying what is plotted."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from srbench.report import generate_report, load_run
from srbench.report.leaderboard import build_board, build_boards
from srbench.report.plots import (PIRM_CAPTION, PROVENANCE_STYLE, pd_figure, psnr_figure, scale_figure,
                                  POINT_RADIUS_PT)
from synthetic_run import make_run

REPO = Path(__file__).resolve().parents[1]
COMMITTED = [REPO / "reports" / name for name in ("x4", "x4-Urban100", "x4-BSD100")]


def _boxes(fig, ax, labels):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    text = [Text.get_window_extent(t, renderer) for t in labels]  # the text itself, not its leader line
    r = POINT_RADIUS_PT * fig.dpi / 72
    offsets = np.concatenate([c.get_offsets() for c in ax.collections if len(c.get_offsets())])
    points = [matplotlib.transforms.Bbox.from_bounds(x - r, y - r, 2 * r, 2 * r)
              for x, y in ax.transData.transform(offsets)]
    legend = ax.get_legend().get_window_extent(renderer)
    return text, points, legend, ax.get_window_extent(renderer)


def assert_readable(fig, ax, labels):
    text, points, legend, axes = _boxes(fig, ax, labels)
    assert len(text) == len(points)
    for i, a in enumerate(text):
        for j, b in enumerate(text[i + 1:], i + 1):
            assert not a.overlaps(b), f"labels {labels[i].get_text()!r} and {labels[j].get_text()!r} overlap"
        for k, p in enumerate(points):
            assert not a.overlaps(p), f"label {labels[i].get_text()!r} covers point {k}"
        assert not a.overlaps(legend), f"label {labels[i].get_text()!r} is under the legend"
        assert axes.x0 <= a.x0 and a.x1 <= axes.x1 and axes.y0 <= a.y0 and a.y1 <= axes.y1
    for p in points:
        assert not legend.overlaps(p), "the legend covers a point"
        assert axes.contains(p.x0 + p.width / 2, p.y0 + p.height / 2), "a point is outside the axes"


@pytest.mark.parametrize("folder", COMMITTED, ids=lambda p: p.name)
def test_committed_runs_plot_without_overlaps(folder):
    run = load_run(folder)
    for board in build_boards(run):
        for made in (pd_figure(board), psnr_figure(board)):
            assert made is not None
            fig, ax, labels = made[:3]
            assert_readable(fig, ax, labels)
            matplotlib.pyplot.close(fig)


def _crowded_run(tmp_path, n_methods=14, scale=4):
    """Many methods packed close together: the label placer has to work."""
    rng = np.random.default_rng(3)
    rows = []
    for k in range(n_methods):
        for i in range(6):
            rows.append({"method": f"method-with-long-name-{k}", "dataset": "Toy", "scale": scale,
                         "image": f"im{i}", "rmse": 10 + 0.05 * k + 0.01 * i, "psnr_y": 28 - 0.02 * k,
                         "niqe": 6 + rng.normal(0, 0.03)})
    return _write_run(tmp_path, pd.DataFrame(rows))


def _write_run(tmp_path, per_image, info_extra=None):
    import json

    run = tmp_path / "run"
    run.mkdir(parents=True, exist_ok=True)
    per_image.to_csv(run / "per_image.csv", index=False, float_format="%.17g")
    metrics = [c for c in per_image.columns if c not in ("method", "dataset", "scale", "image")]
    per_image.groupby(["method", "dataset", "scale"], sort=False)[metrics].mean().reset_index().to_csv(
        run / "summary.csv", index=False, float_format="%.17g")
    info = {"metrics": {"rmse": {"higher_is_better": False}, "psnr_y": {"higher_is_better": True},
                        "niqe": {"higher_is_better": False}, "ssim_y": {"higher_is_better": True}},
            "methods": {}, "datasets": {}}
    info.update(info_extra or {})
    (run / "run.json").write_text(json.dumps(info))
    return run


def test_crowded_labels_do_not_overlap(tmp_path):
    run = load_run(_crowded_run(tmp_path))
    (board,) = build_boards(run)
    for made in (pd_figure(board), psnr_figure(board)):
        fig, ax, labels = made[:3]
        assert_readable(fig, ax, labels)
        matplotlib.pyplot.close(fig)


def test_pirm_regions_only_at_x4_and_axes_fit_the_data(tmp_path):
    for scale in (2, 4):
        run = load_run(_crowded_run(tmp_path / f"x{scale}", n_methods=4, scale=scale))
        board = build_board(run, "Toy", scale)
        fig, ax, labels, *_ = pd_figure(board)
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        notes = " ".join(t.get_text() for t in fig.texts)
        lo, hi = ax.get_xlim()
        assert 9.5 < lo < 10 and 10.2 < hi < 10.6, (lo, hi)  # RMSE 10.0 .. 10.2: not forced out to 16
        if scale == 4:
            assert any("PIRM Region 1" in t for t in legend) and PIRM_CAPTION in notes
        else:
            assert not any("PIRM" in t for t in legend) and "PIRM" not in notes
        matplotlib.pyplot.close(fig)


def test_points_are_styled_by_provenance(tmp_path):
    per_image = pd.DataFrame([{"method": m, "dataset": "Toy", "scale": 4, "image": f"i{i}", "rmse": r + i,
                               "niqe": n, "psnr_y": 30 - r}
                              for m, r, n in (("pub", 9, 5), ("sur", 10, 6), ("base", 12, 8), ("mine", 11, 4))
                              for i in range(3)])
    info = {"methods": {"pub": {"provenance": "published weights"}, "sur": {"provenance": "srbench-trained surrogate"},
                        "base": {"provenance": "baseline"}, "mine": {"spec": "torch:/x/mine.pth"}}}
    run = load_run(_write_run(tmp_path, per_image, info))
    board = build_board(run, "Toy", 4)
    assert board.provenance == {"pub": "published weights", "sur": "srbench-trained surrogate",
                                "base": "baseline", "mine": "user checkpoint"}
    fig, ax, labels, *_ = pd_figure(board)
    colours = {tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in ax.collections}
    expected = {tuple(np.round(matplotlib.colors.to_rgb(PROVENANCE_STYLE[p][0]), 3)) for p in board.provenance.values()}
    assert colours == expected
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"published weights", "srbench-trained surrogate", "baseline", "user checkpoint"} <= set(legend)
    matplotlib.pyplot.close(fig)


def test_registry_provenance_is_the_fallback(tmp_path, monkeypatch):
    from srbench.methods import discover_methods

    registry = discover_methods()
    monkeypatch.setattr(registry.factory("bicubic"), "provenance", "baseline", raising=False)
    per_image = pd.DataFrame([{"method": m, "dataset": "Toy", "scale": 4, "image": "a", "rmse": 1.0}
                              for m in ("bicubic", "not-registered")])
    run = load_run(_write_run(tmp_path, per_image))
    assert run.provenance("bicubic") == "baseline"
    assert run.provenance("not-registered") == "unknown"


def test_incomplete_method_is_hollow_and_counted(tmp_path):
    run_dir = make_run(tmp_path, n_images=4)
    table = pd.read_csv(run_dir / "per_image.csv")
    table = table[~((table["method"] == "noisy") & (table["image"] == "img00"))]
    table.to_csv(run_dir / "per_image.csv", index=False, float_format="%.17g")
    (board,) = build_boards(load_run(run_dir))
    fig, ax, labels, *_ = pd_figure(board)
    assert "noisy (3/4 images)" in [t.get_text() for t in labels]
    hollow = [c for c in ax.collections if np.allclose(c.get_facecolor()[0][:3], 1.0)]
    assert len(hollow) == 1
    matplotlib.pyplot.close(fig)


def _multiscale_run(tmp_path):
    run_dir = make_run(tmp_path, n_images=3)
    for name in ("per_image.csv", "summary.csv"):
        table = pd.read_csv(run_dir / name)
        parts = []
        for scale, drop in ((2, 0.0), (4, 2.0), (8, 5.0)):
            part = table.copy()
            part["scale"] = scale
            part["psnr_y"] = part["psnr_y"] + 6 - drop
            parts.append(part)
        pd.concat(parts).to_csv(run_dir / name, index=False, float_format="%.17g")
    return run_dir


def test_multiscale_report_files_say_what_is_plotted(tmp_path):
    index = generate_report(_multiscale_run(tmp_path))
    names = sorted(p.name for p in (index.parent / "plots").iterdir())
    for scale in (2, 4, 8):
        for ext in ("png", "svg", "pdf"):
            assert f"pd_niqe-vs-rmse_Toy_x{scale}.{ext}" in names
            assert f"psnr_y-vs-niqe_Toy_x{scale}.{ext}" in names
    assert {"psnr_y-vs-scale_Toy.png", "psnr_y-vs-scale_Toy.svg", "psnr_y-vs-scale_Toy.pdf"} <= set(names)
    assert not any(n.startswith("psnr_pi_") for n in names)
    assert (index.parent / "plots" / "pd_niqe-vs-rmse_Toy_x4.pdf").read_bytes().startswith(b"%PDF")
    x2 = (index.parent / "plots" / "pd_niqe-vs-rmse_Toy_x2.svg").read_text(encoding="utf-8")
    x4 = (index.parent / "plots" / "pd_niqe-vs-rmse_Toy_x4.svg").read_text(encoding="utf-8")
    assert "PIRM" not in x2 and "PIRM Region 1" in x4
    html = index.read_text(encoding="utf-8")
    assert "Across scales" in html and "psnr_y-vs-scale_Toy.png" in html


def test_scale_figure_lines_follow_the_values(tmp_path):
    boards = build_boards(load_run(_multiscale_run(tmp_path)))
    fig, ax = scale_figure(boards)
    lines = {line.get_label().split(" (")[0]: line for line in ax.get_lines()}
    board4 = next(b for b in boards if b.scale == 4)
    for method, line in lines.items():
        xs, ys = line.get_data()
        assert list(xs) == [2, 4, 8]
        assert ys[1] == pytest.approx(board4.cell(method, "psnr_y").value)
    matplotlib.pyplot.close(fig)


def test_rerendering_removes_stale_plot_files(tmp_path):
    run_dir = make_run(tmp_path, n_images=3)
    out = tmp_path / "rep"
    (out / "plots").mkdir(parents=True)
    (out / "plots" / "psnr_pi_g0-Toy-x4.png").write_bytes(b"old")
    generate_report(run_dir, out)
    assert not (out / "plots" / "psnr_pi_g0-Toy-x4.png").exists()
