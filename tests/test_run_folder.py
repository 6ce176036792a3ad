"""A run folder never mixes two runs: run.json (written last) records a run id and the sha256 of each table,
readers refuse tables that are not the ones it records, and a reused --out keeps no SR image or report of
an earlier run."""
from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from srbench.cli import main
from srbench.imageio import write_png_atomic
from srbench.run_folder import TABLES, remove_stale_outputs
from synthetic_run import hr_image

RUN = ["run", "--methods", "bicubic", "--scale", "4", "--metrics", "psnr_y", "--quiet"]


@pytest.fixture
def data_root(tmp_path):
    """A user dataset `Toy` of three small images (no manifest), beside the embedded `default`."""
    for k in range(3):
        write_png_atomic(tmp_path / "data" / "Toy" / "HR" / f"toy{k}.png", hr_image(k, size=64))
    return tmp_path / "data"


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_json_ties_the_tables_of_the_run(tmp_path, data_root, isolated_cache):
    out = tmp_path / "run"
    assert main(RUN + ["--datasets", "Toy", "--data-root", str(data_root), "--out", str(out), "--no-report"]) == 0
    info = json.loads((out / "run.json").read_text())
    assert set(info["files"]) == set(TABLES)
    assert all(info["files"][name] == _sha256(out / name) for name in TABLES)
    first = info["run_id"]
    assert main(RUN + ["--datasets", "Toy", "--data-root", str(data_root), "--out", str(out), "--no-report"]) == 0
    assert json.loads((out / "run.json").read_text())["run_id"] != first  # every run has its own id


def test_a_kill_between_two_table_writes_is_detected(tmp_path, data_root, isolated_cache, capsys):
    """Run A complete; run B wrote per_image.csv and summary.csv, then was killed before errors.csv and
    run.json: report and gate refuse the folder with one line instead of reporting a run that never was."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(RUN + ["--datasets", "Toy", "--data-root", str(data_root), "--out", str(a), "--no-report"]) == 0
    assert main(RUN + ["--datasets", "default", "--out", str(b), "--no-report"]) == 0
    shutil.copytree(a, tmp_path / "a-complete")
    for name in ("per_image.csv", "summary.csv"):
        shutil.copy(b / name, a / name)
    capsys.readouterr()
    for command in (["report", str(a)], ["gate", "--baseline", str(b), str(a)]):
        assert main(command) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert "per_image.csv, summary.csv not from the run that wrote run.json" in err
        assert "mixes two runs" in err
    assert not (a / "report").exists()
    # a table lost since (or never written) is a mix too
    for name in ("per_image.csv", "summary.csv"):
        shutil.copy(tmp_path / "a-complete" / name, a / name)
    assert main(["report", str(a)]) == 0
    (a / "errors.csv").unlink()
    assert main(["report", str(a)]) == 2
    assert "errors.csv" in capsys.readouterr().err


def test_manifest_cannot_point_outside_the_run_folder(tmp_path, data_root, isolated_cache, capsys):
    out = tmp_path / "run"
    assert main(RUN + ["--datasets", "Toy", "--data-root", str(data_root), "--out", str(out), "--no-report"]) == 0
    info = json.loads((out / "run.json").read_text())
    info["files"]["../../etc/passwd"] = "0" * 64
    (out / "run.json").write_text(json.dumps(info))
    assert main(["report", str(out)]) == 2
    assert "not a table of a run folder" in capsys.readouterr().err


def test_run_folder_without_manifest_is_read_as_before(tmp_path):
    """Folders written before run ids (e.g. committed reports) have no 'files' and are not refused."""
    from synthetic_run import make_run

    run = make_run(tmp_path, n_images=2)
    assert "files" not in json.loads((run / "run.json").read_text())
    assert main(["report", str(run)]) == 0


def test_reused_out_keeps_no_outputs_of_the_previous_run(tmp_path, data_root, isolated_cache):
    """The issue's case: a default-dataset run with its report, then another dataset into the same --out:
    the old SR images and the old report (crops) are gone; a user's own files are kept."""
    out = tmp_path / "run"
    assert main(RUN + ["--datasets", "default", "--out", str(out)]) == 0
    assert list((out / "sr" / "bicubic" / "default" / "x4").glob("*.png"))
    assert list((out / "report" / "crops").glob("*default*"))
    (out / "notes.txt").write_text("mine")
    (out / "sr" / "README.txt").write_text("mine too")
    assert main(RUN + ["--datasets", "Toy", "--data-root", str(data_root), "--out", str(out), "--no-report"]) == 0
    assert not (out / "sr" / "bicubic" / "default").exists()
    assert sorted(p.name for p in (out / "sr" / "bicubic" / "Toy" / "x4").iterdir()) == [
        "toy0.png", "toy1.png", "toy2.png"]
    assert not (out / "report").exists()  # the old report described the other run
    assert (out / "notes.txt").read_text() == "mine" and (out / "sr" / "README.txt").is_file()
    assert main(["report", str(out)]) == 0
    crops = [p.name for p in (out / "report" / "crops").iterdir()]
    assert crops and not any("default" in name for name in crops)


def test_stale_sr_images_of_items_not_in_the_run_are_removed(tmp_path):
    """Unit level: only srbench's layout sr/<method>/<dataset>/x<scale>/<image>.png is pruned."""
    out = tmp_path
    keep = out / "sr" / "m" / "D" / "x4" / "a.png"
    stale = [out / "sr" / "m" / "D" / "x4" / "b.png", out / "sr" / "m" / "D" / "x2" / "a.png",
             out / "sr" / "old" / "D" / "x4" / "a.png"]
    foreign = [out / "sr" / "m" / "D" / "x4" / "a.jpg", out / "sr" / "m" / "D" / "other" / "a.png"]
    for path in [keep, *stale, *foreign]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    (out / "report").mkdir()
    (out / "report" / "notes.md").write_text("no index.html: not a srbench report")
    removed = remove_stale_outputs(out, [("m", "D", 4, "a")])
    assert sorted(removed) == sorted(stale)
    assert keep.is_file() and all(p.is_file() for p in foreign) and (out / "report" / "notes.md").is_file()
    assert not (out / "sr" / "old").exists()  # emptied folders go too
    assert remove_stale_outputs(out, []) == [keep]  # --no-save-sr: no SR image belongs to the run
