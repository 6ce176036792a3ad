"""Provenance of every method (published weights / srbench-trained surrogate / user checkpoint / baseline),
shown by `srbench list methods` and recorded in run.json; the srcnn protocol's method selection."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from srbench.cli import main
from srbench.methods import PROVENANCES, discover_methods, register_method
from srbench.methods.base import BASELINE, PUBLISHED, SURROGATE, USER, SRMethod
from srbench.runner import RunConfig, run

# What each shipped method is (issue 18): the zoo with public weights, srbench's own surrogates, bicubic.
EXPECTED = {"bicubic": BASELINE,
            **{m: PUBLISHED for m in ("srcnn", "fsrcnn", "vdsr", "lapsrn", "espcn", "enhancenet", "srgan-pytorch")},
            **{m: SURROGATE for m in ("srresnet", "srgan", "msfm-gan", "mr-srgan", "wp-srgan", "bi-gans-st",
                                      "stage-gan", "spsagan")}}


def test_every_method_declares_its_provenance():
    registry = discover_methods()
    declared = {name: getattr(registry.factory(name), "provenance", "") for name in registry.names()}
    assert all(p in PROVENANCES for p in declared.values()), declared
    assert {n: declared[n] for n in EXPECTED} == EXPECTED


def test_an_unknown_provenance_is_refused_at_registration():
    class Bad(SRMethod):
        provenance = "trained somewhere"

    with pytest.raises(ValueError, match="not one of"):
        register_method("bad-provenance-test")(Bad)


def test_list_methods_shows_the_provenance_column(capsys):
    assert main(["list", "methods"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["method", "scales", "provenance"]
    rows = {line.split()[0]: line for line in lines[1:]}
    for name, provenance in EXPECTED.items():
        assert f" {provenance} " in rows[name], rows[name]


def test_list_archs_names_architectures_and_methods(capsys):
    assert main(["list", "archs"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "MSRResNet" in rows and "method srresnet:" in rows["srresnet"]
    assert "bicubic" not in rows   # nothing to load a checkpoint into


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("SRBENCH_CACHE", str(tmp_path / "cache"))
    hr = tmp_path / "data" / "tiny" / "HR"
    hr.mkdir(parents=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:40, 0:44]
    img = np.stack([120 + 90 * np.sin(xx / 4 + c) * np.cos(yy / 5) for c in range(3)], axis=2)
    img = img + rng.normal(0, 3, img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(hr / "a.png")
    return tmp_path


def _config(tiny, **kw) -> RunConfig:
    base = dict(methods=["bicubic"], datasets=["tiny"], scales=[4], out=str(tiny / "run"), metrics=["psnr_y"],
                data_root=str(tiny / "data"), progress=False, report=False, save_sr=False, jobs=1)
    return RunConfig(**{**base, **kw})


def test_run_json_records_each_methods_provenance(tiny):
    from srbench_methods.srresnet.arch import SRResNet

    path = tiny / "mine.pth"
    torch.save(SRResNet(scale=4).state_dict(), path)
    spec = f"torch:{path}"
    run(_config(tiny, methods=["bicubic", "srresnet", spec], arch="srresnet"))
    methods = json.loads((tiny / "run" / "run.json").read_text())["methods"]
    # a torch: method is shown under its file stem; run.json keeps the full spec beside it
    assert {n: m["provenance"] for n, m in methods.items()} == {"bicubic": BASELINE, "srresnet": SURROGATE,
                                                                "mine": USER}
    assert methods["mine"]["spec"] == spec
    # summary.csv stays method/dataset/scale + numbers (coverage counts, then metrics): no provenance text
    # column, since its readers (report, gate) coerce every other column to numbers.
    assert (tiny / "run" / "summary.csv").read_text().splitlines()[0] == "method,dataset,scale,images,failed,psnr_y"


def _fsrcnn_checkpoint(tmp_path):
    from srbench_methods.fsrcnn.arch import FSRCNN_ARCH

    torch.manual_seed(0)
    path = tmp_path / "fsrcnn_x4.pth"
    torch.save(FSRCNN_ARCH.factory(scale=4).state_dict(), path)
    return path


def test_srcnn_protocol_skips_rgb_methods_and_feeds_y_methods_the_double_y(tiny, monkeypatch):
    from srbench.degradations import degrade, degrade_ycbcr_double
    from srbench.imageio import read_image
    from srbench import matlab

    seen = []
    original = SRMethod.run_network

    def spy(self, x, scale):
        seen.append(x.copy())
        return original(self, x, scale)

    monkeypatch.setattr(SRMethod, "run_network", spy)
    weights = {"fsrcnn": str(_fsrcnn_checkpoint(tiny))}
    result = run(_config(tiny, methods=["bicubic", "fsrcnn", "srresnet"], weights=weights, protocol="srcnn",
                         use_cache=False))
    assert set(result.summary["method"]) == {"bicubic", "fsrcnn"}
    assert "srcnn protocol feeds the unquantised double Y" in result.skipped["srresnet"]
    hr = read_image(tiny / "data" / "tiny" / "HR" / "a.png")
    double_y = degrade_ycbcr_double("bicubic", hr, 4)[:, :, :1]
    assert len(seen) == 1 and np.array_equal(seen[0], double_y)
    uint8_y = matlab.rgb2ycbcr(degrade("bicubic", hr, 4, use_cache=False))[:, :, :1] / 255.0
    assert np.abs(seen[0] - uint8_y).max() > 1e-3


def test_srcnn_and_matlab_protocols_do_not_share_cached_sr(tiny):
    fresh = run(_config(tiny, protocol="srcnn", use_cache=False, out=str(tiny / "fresh"))).summary
    run(_config(tiny, protocol="matlab", out=str(tiny / "m")))          # fills the cache
    cached = run(_config(tiny, protocol="srcnn", out=str(tiny / "s"))).summary
    matlab_value = run(_config(tiny, protocol="matlab", out=str(tiny / "m2"))).summary["psnr_y"][0]
    assert cached["psnr_y"][0] == fresh["psnr_y"][0] != matlab_value


def test_srcnn_protocol_needs_a_double_precision_degradation(tiny, capsys):
    args = ["run", "--methods", "bicubic", "--datasets", "tiny", "--data-root", str(tiny / "data"),
            "--protocol", "srcnn", "--degradation", "blur-bicubic", "--out", str(tiny / "o"), "--no-report"]
    assert main(args) == 2
    assert "double precision; available: bicubic" in capsys.readouterr().err


def test_every_model_card_states_the_methods_provenance():
    """Users look at the cards: each says plainly which kind of weights its method runs."""
    from srbench.methods import methods_dir

    registry = discover_methods()
    for name in EXPECTED:
        if name == "bicubic":
            continue
        cls = registry.factory(name)
        card = (methods_dir() / cls.__module__.split(".")[1] / "MODEL_CARD.md").read_text(encoding="utf-8")
        assert f"**Provenance: {cls.provenance}" in card, name
