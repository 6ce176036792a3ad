"""Coverage marks, statistics the test can decide, report order, no machine paths, injection-proof Markdown."""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from srbench.cli import main
from srbench.report import generate_report, load_run, write_markdown_leaderboard
from srbench.report.leaderboard import build_boards
from srbench.report.markdown import code_block, escape_markdown
from srbench.report.stats import can_decide, min_decidable_pairs, wilcoxon_p
from srbench.report.text import scrub_paths
from synthetic_run import SCRIPT_NAME, make_run


def _drop(run_dir, method, images):
    """Remove a method's rows for some images (as if it failed on them) and recompute its summary row."""
    table = pd.read_csv(run_dir / "per_image.csv", dtype={"method": str})
    table = table[~((table["method"] == method) & table["image"].isin(images))]
    table.to_csv(run_dir / "per_image.csv", index=False, float_format="%.17g")
    metrics = [c for c in table.columns if c not in ("method", "dataset", "scale", "image")]
    summary = table.groupby(["method", "dataset", "scale"], sort=False)[metrics].mean().reset_index()
    summary.to_csv(run_dir / "summary.csv", index=False, float_format="%.17g")
    errors = pd.DataFrame([{"method": method, "dataset": "Toy", "scale": 4, "image": i,
                            "error": f"/home/someone/data/Toy/HR/{i}.png: refused"} for i in images])
    errors.to_csv(run_dir / "errors.csv", index=False)
    return table


def _list_images(run_dir, images):
    info = json.loads((run_dir / "run.json").read_text())
    info["datasets"]["Toy"]["images"] = {i: "0" * 64 for i in images}
    (run_dir / "run.json").write_text(json.dumps(info))


def _cheater(tmp_path, n_images):
    """'cheat' = the low-noise method's values, plus 3 dB, but refusing its two hardest images."""
    run_dir = make_run(tmp_path, n_images=n_images)
    table = pd.read_csv(run_dir / "per_image.csv", dtype={"method": str})
    copy = table[table["method"] == "noisy"].copy()
    copy["method"] = "cheat"
    copy["psnr_y"] += 30.0  # far above every other method where it answers
    pd.concat([table, copy]).to_csv(run_dir / "per_image.csv", index=False, float_format="%.17g")
    hardest = copy.sort_values("psnr_y")["image"].head(2).tolist()
    _drop(run_dir, "cheat", hardest)
    _list_images(run_dir, [f"img{k:02d}" for k in range(n_images)])
    return run_dir, hardest


def test_incomplete_method_is_marked_never_ranked_and_paired_on_shared_images(tmp_path):
    run_dir, hardest = _cheater(tmp_path, n_images=8)
    (board,) = build_boards(load_run(run_dir))
    cell = board.cell("cheat", "psnr_y")
    assert board.method_coverage("cheat") == "6/8 images" and cell.coverage == "6/8 images"
    assert cell.value > max(board.cell(m, "psnr_y").value for m in board.methods if m != "cheat")
    assert cell.rank is None and board.best["psnr_y"] == SCRIPT_NAME
    assert board.cell("bicubic", "psnr_y").rank in (1, 2) or board.cell("noisy", "psnr_y").rank == 2
    # the test pairs only the 6 images both cover
    table = pd.read_csv(run_dir / "per_image.csv", dtype={"method": str}).pivot(
        index="image", columns="method", values="psnr_y").drop(index=hardest)
    assert cell.n_pairs == 6
    assert cell.p_value == pytest.approx(wilcoxon_p(table["cheat"].to_numpy(), table[SCRIPT_NAME].to_numpy()))
    assert board.complete("noisy") and not board.complete("cheat")


def test_report_and_markdown_show_coverage(tmp_path):
    run_dir, _ = _cheater(tmp_path, n_images=5)
    index = generate_report(run_dir)
    html = index.read_text(encoding="utf-8")
    row = re.search(r"<tr><td class=\"name\">cheat</td>.*?</tr>", html, re.S).group(0)
    assert "3/5" in row and 'class="best"' not in row and 'class="second"' not in row
    text = write_markdown_leaderboard(run_dir, tmp_path / "lb.md", "srbench run").read_text(encoding="utf-8")
    line = next(l for l in text.splitlines() if l.startswith("| cheat"))
    assert "3/5" in line and "**" not in line and "_" not in line.replace("\\_", "")
    assert "| Images |" in text


def test_wilcoxon_marks_only_where_the_test_can_decide(tmp_path):
    assert min_decidable_pairs() == 6 and not can_decide(5) and can_decide(6)
    # 5 images: two-sided exact p can never be below 2/32 = 0.0625 -> no per-cell marks, one note per table
    run_dir = make_run(tmp_path / "five", n_images=5)
    (board,) = build_boards(load_run(run_dir))
    assert board.too_few_pairs
    assert all(c.p_value is None and not c.indistinguishable for c in board.cells.values())
    html = generate_report(run_dir).read_text(encoding="utf-8")
    assert "p=" not in html and "≈" not in re.sub(r"<p class=\"muted\">.*?</p>", "", html, flags=re.S)
    assert html.count("cannot reach p &lt; 0.05") == 1
    # 6 images: p-values are given, on hover, not printed under every cell
    run6 = make_run(tmp_path / "six", n_images=6)
    html6 = generate_report(run6).read_text(encoding="utf-8")
    assert 'title="Wilcoxon p=0.0312 vs the best over 6 shared images"' in html6
    assert "cannot reach" not in html6
    images = (run6 / "report" / "images.html").read_text(encoding="utf-8")
    assert "<td>6</td><td>0.0312</td>" in images


def test_results_come_before_methods_without_results(tmp_path):
    run_dir = make_run(tmp_path, n_images=3)
    table = pd.read_csv(run_dir / "per_image.csv", dtype={"method": str})
    table[table["method"] != "noisy"].to_csv(run_dir / "per_image.csv", index=False, float_format="%.17g")
    summary = pd.read_csv(run_dir / "summary.csv", dtype={"method": str})
    summary[summary["method"] != "noisy"].to_csv(run_dir / "summary.csv", index=False, float_format="%.17g")
    pd.DataFrame([{"method": "noisy", "dataset": "Toy", "scale": 4, "image": f"img0{k}",
                   "error": "RuntimeError: out of memory"} for k in range(3)]).to_csv(run_dir / "errors.csv", index=False)
    html = generate_report(run_dir).read_text(encoding="utf-8")
    assert html.index('<table class="sortable leaderboard">') < html.index("Methods without results")
    section = html[html.index("Methods without results"):]
    assert "weights not found" in section and "noisy" in section and "out of memory" in section
    text = write_markdown_leaderboard(run_dir, tmp_path / "lb.md", "x").read_text(encoding="utf-8")
    assert "- noisy: failed: RuntimeError: out of memory" in text and "- missing\\-weights" not in text
    assert "- missing-weights: skipped: weights not found" in text


def test_no_absolute_paths_in_generated_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the regenerate command holds paths relative to the folder it is run in
    run_dir = make_run(tmp_path, n_images=3)
    info = json.loads((run_dir / "run.json").read_text())
    info["methods"]["missing-weights"]["reason"] = f"{tmp_path}/weights/model.pth: not found"
    info["config"]["data_root"] = str(tmp_path / "data")
    (run_dir / "run.json").write_text(json.dumps(info))
    out, md = tmp_path / "rep", tmp_path / "lb.md"
    assert main(["report", str(run_dir), "--out", str(out), "--markdown", str(md), "--latex", str(tmp_path / "t.tex")]) == 0
    generated = [p for p in out.rglob("*") if p.suffix in (".html", ".svg", ".json", ".csv")] + [md, tmp_path / "t.tex"]
    assert len(generated) > 8
    for path in generated:
        text = path.read_text(encoding="utf-8")
        assert str(tmp_path) not in text, path
    assert "Run: <code>run</code>" in (out / "index.html").read_text(encoding="utf-8")
    assert "…/model.pth: not found" in (out / "index.html").read_text(encoding="utf-8")


def test_scrub_paths():
    assert scrub_paths("/work/s3/leaderboard") == "…/leaderboard"
    assert scrub_paths("torch:/home/u/x.pth and ~/w.pth") == "torch:…/x.pth and …/w.pth"
    assert scrub_paths("see https://example.org/a/b") == "see https://example.org/a/b"
    assert scrub_paths("rel/path 3/5 images") == "rel/path 3/5 images"
    assert scrub_paths(r"C:\Users\x\a.pth: bad") == "…/a.pth: bad"


def test_markdown_is_injection_proof(tmp_path):
    evil = "x\n```\n# injected\n<img src=x onerror=alert(1)>|*b*"
    assert "\n" not in escape_markdown(evil)
    assert escape_markdown("a|b") == "a\\|b"
    block = code_block("srbench run --methods 'a\n```\nrm -rf /'")
    assert block[0].startswith("````") and block[-1] == block[0][:-2]
    run_dir = make_run(tmp_path, n_images=2)
    for name in ("per_image.csv", "summary.csv"):
        table = pd.read_csv(run_dir / name, dtype={"method": str})
        table["method"] = table["method"].replace("noisy", evil)
        table.to_csv(run_dir / name, index=False, float_format="%.17g")
    info = json.loads((run_dir / "run.json").read_text())
    info["config"]["methods"] = [evil, "bicubic"]
    (run_dir / "run.json").write_text(json.dumps(info))
    md = tmp_path / "lb.md"
    assert main(["report", str(run_dir), "--markdown", str(md)]) == 0
    text = md.read_text(encoding="utf-8")
    lines = text.splitlines()
    fence = lines[next(i for i, l in enumerate(lines) if l.endswith("Regenerate with:")) + 2]
    assert re.fullmatch(r"`{4,}sh", fence)
    # the block closes only at its own closing fence, after the whole command
    close = next(i for i, l in enumerate(lines) if i > lines.index(fence) and l == fence[:-2])
    assert "srbench report" in lines[close - 1]
    assert not any(l.startswith("# injected") for l in lines[close:])
    row = next(l for l in lines[close:] if "injected" in l and l.startswith("| "))
    header = next(l for l in lines[close:] if l.startswith("| Method"))
    cells = lambda line: len(re.findall(r"(?<!\\)\|", line))
    assert cells(row) == cells(header)  # the name's '|' is escaped: no extra column
    outside = "\n".join(lines[close + 1:])  # inside the code block HTML is inert text
    assert not re.search(r"(?<!\\)<img", outside) and "\\<img" in outside


def test_regenerate_command_is_complete(tmp_path, monkeypatch):
    run_dir = make_run(tmp_path, n_images=2)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path / "datasets"))
    monkeypatch.setenv("SRBENCH_SHARED", str(tmp_path / "shared"))
    md = tmp_path / "lb.md"
    assert main(["report", str(run_dir), "--out", "reports/x4", "--markdown", "lb.md"]) == 0
    text = md.read_text(encoding="utf-8")
    command = text.split("```sh\n")[1].split("\n```")[0]
    assert command == ("SRBENCH_DATA=datasets SRBENCH_SHARED=shared srbench run --methods "
                       "'noisy,bicubic,<script>alert(1)</script>' --datasets Toy --scale 4 --out runs/run && "
                       "srbench report runs/run --out reports/x4 --markdown lb.md")


def test_pi_column_appears_when_pi_is_available(tmp_path):
    with_pi = make_run(tmp_path / "pi", n_images=2, with_pi=True)
    text = write_markdown_leaderboard(with_pi, tmp_path / "a.md", "x").read_text(encoding="utf-8")
    assert "| pi ↓ |" in text
    without = make_run(tmp_path / "nopi", n_images=2)
    assert "| pi" not in write_markdown_leaderboard(without, tmp_path / "b.md", "x").read_text(encoding="utf-8")


def test_rerender_a_report_folder_from_its_tables_keeps_crops(tmp_path):
    run_dir = make_run(tmp_path, n_images=3)
    out = tmp_path / "reports" / "x4"
    assert main(["report", str(run_dir), "--out", str(out)]) == 0
    for name in ("per_image.csv", "summary.csv", "run.json", "errors.csv"):
        assert (out / name).is_file()
    crops = sorted(p.relative_to(out) for p in (out / "crops").rglob("*.png"))
    assert crops
    before = (out / "compare.html").read_text(encoding="utf-8")
    import shutil

    shutil.rmtree(run_dir)  # the run (and its SR images) is gone; only the report folder remains
    assert main(["report", str(out), "--out", str(out)]) == 0
    assert sorted(p.relative_to(out) for p in (out / "crops").rglob("*.png")) == crops
    after = (out / "compare.html").read_text(encoding="utf-8")
    tiles = lambda html: re.findall(r'<img class="crop" src="([^"]+)" alt="([^"]+)"', html)
    assert tiles(after) == tiles(before) and "Crops kept" in after
    assert (out / "index.html").read_text(encoding="utf-8").count('class="sortable leaderboard"') == 1


def test_count_columns_of_newer_summaries_are_not_metrics(tmp_path):
    run_dir = make_run(tmp_path, n_images=2)
    summary = pd.read_csv(run_dir / "summary.csv", dtype={"method": str})
    summary["images"], summary["failed"] = 2, 0
    summary.to_csv(run_dir / "summary.csv", index=False, float_format="%.17g")
    run = load_run(run_dir)
    assert run.metrics == ["psnr_y", "ssim_y", "rmse", "niqe"]
    assert "| images" not in write_markdown_leaderboard(run_dir, tmp_path / "lb.md", "x").read_text(encoding="utf-8")


def test_methods_not_run_at_a_scale_are_named_under_its_table(tmp_path):
    run_dir = make_run(tmp_path, n_images=2)
    for name in ("per_image.csv", "summary.csv"):
        table = pd.read_csv(run_dir / name, dtype={"method": str})
        extra = table[table["method"] == "noisy"].assign(method="x8only", scale=8)
        pd.concat([table, extra]).to_csv(run_dir / name, index=False, float_format="%.17g")
    info = json.loads((run_dir / "run.json").read_text())
    info["methods"]["x8only"] = {"status": "ok", "scales": {"4": {"status": "skipped", "reason": "x8only does not "
                                                                  "support x4"}, "8": {"status": "ok"}}}
    (run_dir / "run.json").write_text(json.dumps(info))
    html = generate_report(run_dir).read_text(encoding="utf-8")
    x4 = html.split('<h2 id="g0-Toy-x4">')[1].split("<h2")[0]
    assert "Not run at ×4: x8only (skipped: x8only does not support x4)" in x4
    assert "Not run" not in html.split('<h2 id="g1-Toy-x8">')[1].split("<h2")[0]
