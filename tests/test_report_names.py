"""Display names: a `torch:` method is shown and compared under a short name (the YAML's `name:` or the file
stem, made unique); run.json keeps the full spec."""
from __future__ import annotations

import pytest

from srbench.methods.generic import create_generic_method, display_name
from srbench.runner import RunConfig, select_methods


def test_display_name_is_short_and_unique():
    taken = {"bicubic"}
    assert display_name("bicubic", None, taken) == "bicubic"
    assert display_name("torch:/abs/dir/a/model.pth", None, taken) == "model"
    assert display_name("torch:/abs/dir/b/model.pth", None, taken) == "b-model"
    assert display_name("torch:c/b/model.pth", None, taken) == "model-2"
    assert display_name("torch:x/bicubic.pth", None, taken) == "x-bicubic"  # never shadows a registered name
    assert taken == {"bicubic", "model", "b-model", "model-2", "x-bicubic"}


def test_torch_methods_are_named_by_stem_or_yaml_name(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "model.pth").write_bytes(b"not loaded before build")
    (tmp_path / "mine.yaml").write_text("name: my-esrgan\narch: RRDBNet\nweights: a/model.pth\n")
    (tmp_path / "plain.yaml").write_text("arch: RRDBNet\nweights: a/model.pth\n")
    assert create_generic_method(f"torch:{tmp_path}/mine.yaml").name == "my-esrgan"
    assert create_generic_method(f"torch:{tmp_path}/plain.yaml").name == "plain"
    specs = [f"torch:{tmp_path}/a/model.pth", f"torch:{tmp_path}/b/model.pth", f"torch:{tmp_path}/mine.yaml"]
    config = RunConfig(methods=specs, datasets=["default"], scales=[4], out=str(tmp_path / "run"), arch="RRDBNet")
    selected = select_methods(specs, [4], config)
    assert [name for name, _, _ in selected] == ["model", "b-model", "my-esrgan"]
    assert [method.spec for _, method, _ in selected] == specs
    assert all(method.provenance == "user checkpoint" for _, method, _ in selected)


def test_a_missing_checkpoint_still_names_the_file(tmp_path):
    from srbench.errors import UserError

    with pytest.raises(UserError, match="no such file"):
        create_generic_method(f"torch:{tmp_path}/nothing.pth", "RRDBNet")
