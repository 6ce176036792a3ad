"""The gate's tolerance boundary, through the CLI: a change equal to the tolerance is within it, a change
just beyond it in either direction is drift. Values are dyadic so that the deltas are exact in binary."""
import pandas as pd
import pytest

from srbench.cli import main
from synthetic_run import make_run


def _set(run, method, metric, value):
    table = pd.read_csv(run / "summary.csv", keep_default_na=False, na_values=[""])
    table.loc[table["method"] == method, metric] = value
    table.to_csv(run / "summary.csv", index=False, float_format="%.17g")


@pytest.fixture
def at_thirty(tmp_path):
    run = make_run(tmp_path, n_images=2)
    _set(run, "noisy", "psnr_y", 30.0)
    baseline = tmp_path / "baseline.csv"
    assert main(["gate", "--update", "--baseline", str(baseline), str(run)]) == 0
    return run, baseline


@pytest.mark.parametrize("current,tolerance,code", [
    (30.25, "0.25", 0),     # delta == tolerance: within
    (29.75, "0.25", 0),     # a drop equal to the tolerance: within
    (30.25, "0.2499", 1),   # just beyond
    (29.75, "0.2499", 1),   # a drop just beyond: drift too (the gate is two-sided)
    (29.5, "0.25", 1),
])
def test_delta_equal_to_the_tolerance_is_within(at_thirty, capsys, current, tolerance, code):
    run, baseline = at_thirty
    _set(run, "noisy", "psnr_y", current)
    assert main(["gate", "--baseline", str(baseline), "--tolerance", f"psnr_y={tolerance}", str(run)]) == code
    out = capsys.readouterr().out
    sign = "+" if current > 30 else "-"
    assert f"{sign}{abs(current - 30):g}" in out  # the delta is reported as current - baseline
