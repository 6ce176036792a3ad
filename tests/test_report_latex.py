"""`srbench report RUN --latex FILE`: booktabs tables, best bold / second underlined per column, arrows,
provenance marks, coverage, LaTeX escaping; compiled with pdflatex where it is installed (CI installs it)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pandas as pd
import pytest

from srbench.cli import main
from srbench.report.latex import escape_latex, render_latex
from srbench.report.leaderboard import format_value
from synthetic_run import SCRIPT_NAME, make_run

NASTY = "a&b_%$#{c}~^\\d\nx"


def _run(tmp_path):
    run_dir = make_run(tmp_path, n_images=3, datasets=("Toy", "Set_5"))
    for name in ("per_image.csv", "summary.csv"):
        table = pd.read_csv(run_dir / name, dtype={"method": str})
        table["method"] = table["method"].replace("noisy", NASTY)
        table.to_csv(run_dir / name, index=False, float_format="%.17g")
    info = json.loads((run_dir / "run.json").read_text())
    info["methods"][NASTY] = {"status": "ok", "provenance": "srbench-trained surrogate"}
    info["methods"]["bicubic"]["provenance"] = "baseline"
    info["methods"][SCRIPT_NAME]["provenance"] = "published weights"
    (run_dir / "run.json").write_text(json.dumps(info))
    return run_dir


def test_escape_latex():
    assert escape_latex(NASTY) == (r"a\&b\_\%\$\#\{c\}\textasciitilde{}\textasciicircum{}\textbackslash{}d x")


def test_latex_structure(tmp_path):
    run_dir = _run(tmp_path)
    tex = render_latex(run_dir)
    summary = pd.read_csv(run_dir / "summary.csv", dtype={"method": str}).set_index(["method", "dataset"])
    assert tex.count(r"\toprule") == 1 and tex.count(r"\bottomrule") == 1 and r"\midrule" in tex
    assert r"\begin{tabular}{l cc cc}" in tex
    assert r"\multicolumn{2}{c}{Toy} & \multicolumn{2}{c}{Set\_5}" in tex
    assert r"\cmidrule(lr){2-3}\cmidrule(lr){4-5}" in tex
    assert "Method & PSNR$\\uparrow$ & SSIM$\\uparrow$ & PSNR$\\uparrow$ & SSIM$\\uparrow$ \\\\" in tex
    rows = {line.split(" & ")[0]: line.rstrip(" \\").split(" & ")[1:] for line in tex.splitlines()
            if line.count(" & ") == 4 and not line.startswith(("Method", " "))}
    script = escape_latex(SCRIPT_NAME)
    nasty = escape_latex(NASTY) + "$^{\\dagger}$"
    assert set(rows) == {script, nasty, "bicubic"}
    best = format_value(summary.loc[(SCRIPT_NAME, "Toy"), "psnr_y"])
    assert rows[script][0] == rf"\textbf{{{best}}}"
    second = format_value(summary.loc[(NASTY, "Toy"), "psnr_y"])
    assert rows[nasty][0] == rf"\underline{{{second}}}"
    assert rows["bicubic"][0] == format_value(summary.loc[("bicubic", "Toy"), "psnr_y"])
    assert "$^{\\dagger}$\\,weights trained by srbench" in tex
    assert "\n" + escape_latex(NASTY) not in tex.replace(nasty, "")  # the raw name never appears unescaped
    assert "a&b" not in tex


def test_latex_marks_incomplete_methods_and_chosen_metrics(tmp_path):
    run_dir = make_run(tmp_path, n_images=4)
    table = pd.read_csv(run_dir / "per_image.csv", dtype={"method": str})
    table = table[~((table["method"] == SCRIPT_NAME) & (table["image"] == "img00"))]
    table.to_csv(run_dir / "per_image.csv", index=False, float_format="%.17g")
    tex = render_latex(run_dir, ["rmse", "niqe"])
    line = next(l for l in tex.splitlines() if l.startswith(escape_latex(SCRIPT_NAME)))
    assert "\\textsuperscript{(3/4)}" in line and "textbf" not in line and "underline" not in line
    assert "RMSE$\\downarrow$ & NIQE$\\downarrow$" in tex
    assert main(["report", str(run_dir), "--latex", str(tmp_path / "t.tex"), "--latex-metrics", "bogus"]) == 2


def _pdflatex():
    found = shutil.which("pdflatex")
    if found is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("pdflatex not installed -- CI must compile the LaTeX tables "
                        "(apt-get install -y texlive-latex-recommended)")
        pytest.skip("pdflatex not installed (apt-get install -y texlive-latex-recommended)")
    return found


def test_latex_compiles(tmp_path):
    pdflatex = _pdflatex()
    run_dir = _run(tmp_path)
    assert main(["report", str(run_dir), "--latex", str(tmp_path / "tables.tex"),
                 "--latex-metrics", "psnr_y,ssim_y,niqe"]) == 0
    (tmp_path / "paper.tex").write_text("\\documentclass{article}\n\\usepackage{booktabs}\n"
                                        "\\begin{document}\n\\input{tables.tex}\n\\end{document}\n")
    result = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "paper.tex"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "paper.pdf").read_bytes().startswith(b"%PDF")
    log = (tmp_path / "paper.log").read_text(errors="replace")
    assert not re.search(r"^! ", log, re.M)
    assert "Missing character" not in log  # every name's characters were typeset
