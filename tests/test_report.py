"""Reporter: run loading, ranking, Wilcoxon, Pareto front, crop placement, HTML escaping, plots, Markdown."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from srbench import matlab
from srbench.cli import main
from srbench.errors import UserError
from srbench.imageio import read_image
from srbench.report import generate_report, load_run, write_markdown_leaderboard
from srbench.report.crops import choose_box, window_means
from srbench.report.leaderboard import build_boards, format_value, rank_values
from srbench.report.plots import pareto_front
from srbench.report.stats import wilcoxon_p
from synthetic_run import METHODS, SCALE, SCRIPT_NAME, make_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("run"), n_images=6)


# ---- loading -------------------------------------------------------------------------------------------

def test_load_run_reads_tables_and_directions(run_dir):
    run = load_run(run_dir)
    assert run.metrics == ["psnr_y", "ssim_y", "rmse", "niqe"]
    assert run.higher_is_better("psnr_y") is True and run.higher_is_better("rmse") is False
    assert set(run.methods()) == set(METHODS)
    assert run.groups() == [("Toy", SCALE)]
    assert run.skipped_methods() == {"missing-weights": "weights not found"}


def test_load_run_names_the_bad_file(run_dir, tmp_path):
    with pytest.raises(UserError, match="summary.csv: file not found"):
        bad = tmp_path / "bad"
        bad.mkdir()
        (bad / "run.json").write_text("{}")
        load_run(bad)
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("run.json", "per_image.csv"):
        (broken / name).write_bytes((run_dir / name).read_bytes())
    (broken / "summary.csv").write_text("method,dataset,scale,psnr_y\nm,D,4,abc\n")
    with pytest.raises(UserError, match=r"summary.csv: column 'psnr_y' holds a non-number"):
        load_run(broken)
    (broken / "run.json").write_text("{not json")
    with pytest.raises(UserError, match="run.json: not valid JSON"):
        load_run(broken)


# ---- ranking and statistics ----------------------------------------------------------------------------

def test_rank_values_respects_direction_and_ties():
    values = {"a": 30.0, "b": 31.0, "c": 31.0, "d": 29.0, "e": float("nan")}
    assert rank_values(values, True) == {"b": 1, "c": 1, "a": 2}
    assert rank_values(values, False) == {"d": 1, "a": 2}
    assert rank_values(values, None) == {}


def test_wilcoxon_matches_exact_distribution():
    # 6 pairs, every difference positive with distinct ranks: the exact two-sided p is 2 / 2**6.
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    b = a - np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert wilcoxon_p(a, b) == pytest.approx(2 / 64)
    # One negative difference of the smallest rank: T = 1, P(T <= 1) = 2/64 per side, so p = 4/64.
    b2 = b.copy()
    b2[0] = a[0] + 0.1
    assert wilcoxon_p(a, b2) == pytest.approx(4 / 64)
    assert wilcoxon_p(a, a) == 1.0
    assert wilcoxon_p(np.array([np.nan]), np.array([1.0])) is None


def test_board_marks_best_second_and_p_values(run_dir):
    (board,) = build_boards(load_run(run_dir))
    summary = pd.read_csv(run_dir / "summary.csv").set_index("method")
    by_psnr = summary["psnr_y"].sort_values(ascending=False).index.tolist()
    assert board.best["psnr_y"] == by_psnr[0] == SCRIPT_NAME  # least noise, highest PSNR
    assert board.cell(by_psnr[1], "psnr_y").rank == 2
    assert board.cell(by_psnr[2], "psnr_y").rank is None
    by_rmse = summary["rmse"].sort_values().index.tolist()
    assert board.best["rmse"] == by_rmse[0]
    # 6 images, the best wins on every one: exact p = 2/64 for each other method
    assert board.cell("noisy", "psnr_y").p_value == pytest.approx(2 / 64)
    assert board.cell(SCRIPT_NAME, "psnr_y").p_value is None
    assert not board.cell("noisy", "psnr_y").indistinguishable


def test_format_value_decimals():
    assert format_value(31.3456) == "31.35"
    assert format_value(0.91234) == "0.9123"
    assert format_value(5.12345) == "5.123"
    assert format_value(float("nan")) == "–"
    assert format_value(float("inf")) == "∞"


def test_pareto_front_keeps_non_dominated_points():
    x = np.array([1.0, 2.0, 3.0, 2.5, 4.0])
    y = np.array([5.0, 3.0, 1.0, 4.0, 0.5])
    assert pareto_front(x, y).tolist() == [0, 1, 2, 4]  # (2.5, 4) is dominated by (2, 3)


# ---- crops ---------------------------------------------------------------------------------------------

def test_window_means_equal_brute_force():
    rng = np.random.default_rng(0)
    m = rng.random((13, 17))
    expected = sliding_window_view(m, (5, 5)).mean(axis=(2, 3))
    np.testing.assert_allclose(window_means(m, 5), expected, rtol=1e-12, atol=1e-12)


def test_crop_goes_where_methods_disagree():
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    other = base.copy()
    other[40:56, 8:24] = 255 - other[40:56, 8:24]  # the only region where the two outputs differ
    (top, left, size), score = choose_box([base, other], None)
    assert size == 16
    assert (top, left) == (40, 8)
    assert score > 0


def test_single_method_crop_follows_its_error():
    hr = np.full((48, 48, 3), 100, np.uint8)
    sr = hr.copy()
    sr[4:16, 30:42] = 160
    (top, left, size), _ = choose_box([sr], hr)
    assert size == 16 and top <= 4 and top + size >= 16 and left <= 30 and left + size >= 42


# ---- HTML, plots, Markdown -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def report(run_dir):
    return generate_report(run_dir)


def test_report_pages_escape_untrusted_names(report):
    html = report.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for page in ("index.html", "images.html", "compare.html"):
        text = (report.parent / page).read_text(encoding="utf-8")
        assert "<script>alert(1)" not in text
        assert text.count("<script>") == 1  # the report's own sorting script only
        assert "http://" not in text and "https://" not in text  # no CDN, works offline


def test_report_leaderboard_cells(report, run_dir):
    html = report.read_text(encoding="utf-8")
    summary = pd.read_csv(run_dir / "summary.csv").set_index("method")
    best = summary.loc[SCRIPT_NAME, "psnr_y"]
    # the best PSNR cell carries the exact value for sorting and the 'best' class
    assert re.search(rf'data-sort="{re.escape(repr(float(best)))}" class="best">{format_value(best)}', html)
    assert "psnr_y ↑" in html and "rmse ↓" in html
    assert "weights not found" in html  # skipped method and its reason


def _plotted_points(fig) -> np.ndarray:
    """Every data point drawn on a figure's axes: scatter offsets and line vertices, in data units."""
    points = [np.zeros((0, 2))]
    for ax in fig.axes:
        points += [np.asarray(c.get_offsets(), np.float64).reshape(-1, 2) for c in ax.collections]
        points += [np.asarray(line.get_xydata(), np.float64).reshape(-1, 2) for line in ax.lines]
    return np.concatenate(points)


def test_report_plots_show_each_methods_values(tmp_path, monkeypatch):
    """The plots draw each method at its summary values: (RMSE, NIQE) and (NIQE, PSNR) without PI."""
    import matplotlib.figure

    saved = {}
    real_savefig = matplotlib.figure.Figure.savefig

    def recording_savefig(fig, fname, *args, **kwargs):
        saved[Path(fname).stem] = _plotted_points(fig)
        return real_savefig(fig, fname, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", recording_savefig)
    run = make_run(tmp_path, n_images=3)
    generate_report(run)
    summary = pd.read_csv(run / "summary.csv").set_index("method")
    for stem, (x, y) in {"pd_g0-Toy-x4": ("rmse", "niqe"), "psnr_pi_g0-Toy-x4": ("niqe", "psnr_y")}.items():
        drawn = saved[stem]
        for method in METHODS:
            want = summary.loc[method, [x, y]].to_numpy(np.float64)
            assert np.any(np.all(np.abs(drawn - want) <= 1e-9 * np.abs(want), axis=1)), (stem, method)


def test_report_plots_and_niqe_fallback_note(report):
    plots = report.parent / "plots"
    for stem in ("pd_g0-Toy-x4", "psnr_pi_g0-Toy-x4"):
        png = read_image(plots / f"{stem}.png")  # a real, non-blank image
        assert min(png.shape[:2]) >= 300 and len(np.unique(png.reshape(-1, png.shape[-1]), axis=0)) > 50
        svg = (plots / f"{stem}.svg").read_text(encoding="utf-8")
        assert "PI unavailable" in svg and "NIQE" in svg
    pd_svg = (plots / "pd_g0-Toy-x4.svg").read_text(encoding="utf-8")
    assert "PIRM Region 2" in pd_svg and "Pareto front" in pd_svg
    assert "PI unavailable" in report.read_text(encoding="utf-8")


def test_plots_use_pi_when_present(tmp_path):
    run = make_run(tmp_path, n_images=3, with_pi=True)
    index = generate_report(run)
    svg = (index.parent / "plots" / "pd_g0-Toy-x4.svg").read_text(encoding="utf-8")
    assert "PI (lower is better)" in svg and "PI unavailable" not in svg


def test_plots_fall_back_when_pi_is_all_nan(tmp_path):
    run = make_run(tmp_path, n_images=3, with_pi=True)
    for name in ("summary.csv", "per_image.csv"):
        table = pd.read_csv(run / name)
        table["pi"] = np.nan
        table.to_csv(run / name, index=False)
    index = generate_report(run)
    svg = (index.parent / "plots" / "pd_g0-Toy-x4.svg").read_text(encoding="utf-8")
    assert "showing NIQE instead of PI" in svg


def test_comparison_crops_are_the_same_window(report, run_dir):
    html = (report.parent / "compare.html").read_text(encoding="utf-8")
    match = re.search(r"<h3>(\w+) <span class=\"muted\">\(window (\d+)×\d+ at row (\d+), column (\d+)\)", html)
    image, size, top, left = match.group(1), *map(int, match.groups()[1:])
    tiles = re.findall(r'<img class="crop" src="([^"]+)" alt="([^"]+)"', html.split("<h3>")[1])
    labels = [alt for _, alt in tiles]
    assert labels[0] == "HR" and labels[1] == "bicubic"  # HR, then bicubic, then the others
    hr = matlab.modcrop(read_image(run_dir.parent / "data" / "Toy" / "HR" / f"{image}.png"), SCALE)
    np.testing.assert_array_equal(read_image(report.parent / tiles[0][0]), hr[top:top + size, left:left + size])
    noisy = read_image(run_dir / "sr" / "noisy" / "Toy" / f"x{SCALE}" / f"{image}.png")
    crop = read_image(report.parent / tiles[labels.index("noisy")][0])
    np.testing.assert_array_equal(crop, noisy[top:top + size, left:left + size])


def test_markdown_leaderboard(run_dir, tmp_path):
    path = write_markdown_leaderboard(run_dir, tmp_path / "leaderboard.md", "srbench run --datasets default")
    text = path.read_text(encoding="utf-8")
    assert "srbench run --datasets default" in text
    assert "\\<script\\>alert(1)\\</script\\>" in text and "<script>" not in text
    summary = pd.read_csv(run_dir / "summary.csv").set_index("method")
    assert f"**{format_value(summary.loc[SCRIPT_NAME, 'psnr_y'])}**" in text
    assert f"_{format_value(summary.loc['noisy', 'psnr_y'])}_" in text
    assert "| Method | psnr\\_y ↑ | ssim\\_y ↑ | rmse ↓ | niqe ↓ |" in text


def test_report_command(run_dir, tmp_path, capsys):
    out, md = tmp_path / "rep", tmp_path / "lb.md"
    assert main(["report", str(run_dir), "--out", str(out), "--markdown", str(md)]) == 0
    assert (out / "index.html").is_file()
    text = md.read_text(encoding="utf-8")
    # the regeneration command is rebuilt from run.json's configuration
    config = json.loads((run_dir / "run.json").read_text())["config"]
    assert f"--datasets {config['datasets'][0]}" in text and "srbench report" in text
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_one_section_per_dataset_with_safe_file_names(tmp_path):
    run = make_run(tmp_path, n_images=2, datasets=("Toy", "../odd name"))
    index = generate_report(run)
    html = index.read_text(encoding="utf-8")
    assert html.count('<table class="sortable leaderboard">') == 2
    assert "../odd name ×4" in html
    plots = sorted(p.name for p in (index.parent / "plots").iterdir())
    assert plots == ["pd_g0-Toy-x4.png", "pd_g0-Toy-x4.svg", "pd_g1-odd-name-x4.png", "pd_g1-odd-name-x4.svg",
                     "psnr_pi_g0-Toy-x4.png", "psnr_pi_g0-Toy-x4.svg", "psnr_pi_g1-odd-name-x4.png",
                     "psnr_pi_g1-odd-name-x4.svg"]
    assert all(p.parent == index.parent / "crops" for p in (index.parent / "crops").iterdir())


def test_bicubic_reference_is_recomputed_when_the_run_lacks_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    run = make_run(tmp_path, n_images=2)
    for name in ("summary.csv", "per_image.csv"):
        table = pd.read_csv(run / name)
        table[table["method"] != "bicubic"].to_csv(run / name, index=False, float_format="%.17g")
    index = generate_report(run)
    html = (index.parent / "compare.html").read_text(encoding="utf-8")
    first = html.split("<h3>")[1]
    image, size, top, left = re.search(r"^(\w+) <span class=\"muted\">\(window (\d+)×\d+ at row (\d+), "
                                       r"column (\d+)\)", first).groups()
    size, top, left = int(size), int(top), int(left)
    src = re.search(r'<img class="crop" src="([^"]+)" alt="bicubic \(reference\)"', first).group(1)
    hr = matlab.modcrop(read_image(run.parent / "data" / "Toy" / "HR" / f"{image}.png"), SCALE)
    expected = matlab.imresize(matlab.imresize(hr, 1 / SCALE), SCALE)[top:top + size, left:left + size]
    np.testing.assert_array_equal(read_image(index.parent / src), expected)
