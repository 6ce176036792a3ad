"""Generic adapter: benchmark any checkpoint of a registered architecture.

Two ways in:
  * `--methods torch:path/to/checkpoint.pth --arch NAME`: `create_generic_method("torch:...", "NAME")`;
  * a small YAML file (in a method folder, or given as `torch:path/to/method.yaml`)::

        name: my-esrgan            # method name (default: the folder's name; for torch:x.yaml, x)
        arch: RRDBNet              # a name in srbench.archs.ARCHS
        weights: RRDB_ESRGAN_x4.pth   # relative to the YAML file, or absolute
        sha256: 65fece06...        # optional; verified when given
        url: https://...           # optional canonical download (needs sha256)
        scales: [4]                # optional; default: the architecture's
        options: {num_block: 23}   # optional keyword arguments of the architecture
        input: {channels: rgb, value_range: 1.0, pre_upsample: false}   # optional overrides

    A folder `methods/<name>/` holding only `method.yaml` is registered by `discover_methods`; a folder
    with code registers it with `register_yaml_method(Path(__file__).with_name("method.yaml"))`.

Checkpoints load with `weights_only=True` (pickled models are refused); BasicSR's `params_ema`/`params`
wrappers and DataParallel's `module.` prefixes are unwrapped, and the architecture's `convert_state`
renames other published key layouts (e.g. the original ESRGAN's); its `infer_options` reads block counts
and widths off the checkpoint, so `options` are rarely needed.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from ..archs import ArchSpec, get_arch
from ..assets import Asset, sha256_file
from ..errors import AssetError, Unavailable, UserError
from .base import InputSpec, SRMethod, load_state_dict
from .pretrained import load_strict

_YAML_KEYS = {"name", "arch", "weights", "sha256", "url", "scales", "options", "input", "description"}


def unwrap_state(state: dict) -> dict:
    """The tensors of BasicSR / DataParallel checkpoints, with their wrappers removed."""
    for key in ("params_ema", "params", "model", "net"):
        if key in state and isinstance(state[key], dict):
            state = state[key]
            break
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


class GenericMethod(SRMethod):
    """One checkpoint + one architecture. Built by `create_generic_method` or from a YAML file."""

    spec: str | None = None   # the `torch:...` it was given as, recorded in run.json beside the short name

    def __init__(self, name: str, arch: ArchSpec, asset: Asset, explicit: str | None = None,
                 scales: tuple[int, ...] | None = None, options: dict | None = None,
                 input_spec: InputSpec | None = None, missing_is_error: bool = True, description: str = "",
                 **kwargs):
        kwargs.pop("weights", None)
        super().__init__(**kwargs)
        self.name = name
        self.arch = arch
        self.asset = asset
        self.explicit = explicit
        self.scales = tuple(scales or arch.scales or (2, 3, 4))
        self.options = dict(options or {})
        self.input_spec = input_spec or arch.input_spec
        self.receptive_field = arch.receptive_field
        self.missing_is_error = missing_is_error
        self.description = description or f"{arch.name} checkpoint {asset.name}"

    def build(self, scale: int):
        try:
            path = self.asset.resolve(self.explicit)
        except AssetError as exc:
            if self.missing_is_error or type(exc) is not AssetError:
                raise
            raise Unavailable(f"{self.name}: weights unavailable: {exc}") from None
        state = unwrap_state(load_state_dict(path))
        if self.arch.convert_state is not None:
            state = self.arch.convert_state(state)
        inferred = self.arch.infer_options(state) if self.arch.infer_options is not None else {}
        try:
            net = self.arch.factory(scale=scale, **{**inferred, **self.options})
        except (TypeError, ValueError) as exc:
            raise UserError(f"{path}: cannot build architecture {self.arch.name} x{scale}: {exc}") from None
        load_strict(net, state, path)
        return net, f"sha256:{self.asset.sha256 or sha256_file(path)}"


def _input_spec(base: InputSpec, overrides: dict | None, where: str) -> InputSpec:
    if not overrides:
        return base
    unknown = set(overrides) - {f.name for f in dataclasses.fields(InputSpec)}
    if unknown:
        raise UserError(f"{where}: unknown input keys {sorted(unknown)}")
    spec = dataclasses.replace(base, **overrides)
    if spec.channels not in ("rgb", "y") or spec.value_range not in (1.0, 255.0):
        raise UserError(f"{where}: input channels must be rgb|y and value_range 1.0|255.0")
    return spec


def load_yaml_config(path: Path) -> dict:
    import yaml

    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"{path}: cannot read method YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(config, dict):
        raise UserError(f"{path}: a method YAML must be a mapping")
    unknown = set(config) - _YAML_KEYS
    missing = {"arch", "weights"} - set(config)
    if unknown or missing:
        raise UserError(f"{path}: " + "; ".join(
            ([f"unknown keys {sorted(unknown)}"] if unknown else []) + ([f"missing {sorted(missing)}"] if missing else [])))
    return config


def method_from_yaml(path: str | Path, missing_is_error: bool = True, arch_override: str | None = None,
                     default_name: str | None = None, **kwargs) -> GenericMethod:
    path = Path(path)
    config = load_yaml_config(path)
    arch = get_arch(arch_override or str(config["arch"]))
    weights = Path(str(config["weights"])).expanduser()
    if not weights.is_absolute():
        weights = path.parent / weights
    url = config.get("url")
    if url and not config.get("sha256"):
        raise UserError(f"{path}: a download url needs a sha256")
    asset = Asset(name=weights.name, kind="weights", sha256=config.get("sha256"), urls=[url] if url else [])
    scales = config.get("scales")
    if scales is not None and not (isinstance(scales, list) and all(isinstance(s, int) and s > 0 for s in scales)):
        raise UserError(f"{path}: scales must be a list of positive integers")
    return GenericMethod(
        name=str(config.get("name") or default_name or path.parent.name), arch=arch, asset=asset,
        explicit=str(weights) if weights.is_file() or not url else None,
        scales=tuple(scales) if scales else None, options=config.get("options") or {},
        input_spec=_input_spec(arch.input_spec, config.get("input"), str(path)),
        missing_is_error=missing_is_error, description=str(config.get("description") or ""), **kwargs)


def create_generic_method(spec: str, arch: str | None = None, **kwargs) -> SRMethod:
    """`torch:path.pth` with `arch`, or `torch:path.yaml` (its own arch unless `arch` overrides it)."""
    if not spec.startswith("torch:"):
        raise UserError(f"'{spec}': a generic method is written torch:path/to/checkpoint.pth")
    path = Path(spec[len("torch:"):]).expanduser()
    if path.suffix.lower() in (".yaml", ".yml"):
        if not path.is_file():
            raise UserError(f"{path}: no such file")
        # a method folder's method.yaml is named by its folder, any other YAML by its file stem
        stem = path.parent.name if path.stem == "method" else path.stem
        method = method_from_yaml(path, arch_override=arch, default_name=stem, **kwargs)
        method.spec, method.provenance = spec, "user checkpoint"
        return method
    if not arch:
        raise UserError(f"{spec}: give the architecture with --arch NAME")
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    spec_arch = get_arch(arch)
    asset = Asset(name=path.name, kind="weights")
    method = GenericMethod(name=path.stem, arch=spec_arch, asset=asset, explicit=str(path), **kwargs)
    method.spec, method.provenance = spec, "user checkpoint"
    return method


def display_name(spec: str, method: SRMethod | None, taken: set[str]) -> str:
    """The short name a method is shown and compared under (tables, plots, gate baselines): the registered
    name, or for `torch:` the YAML's `name:` or the checkpoint's file stem. A name already in `taken` (two
    checkpoints called model.pth, or one shadowing a registered method) gets the parent folder's name, then
    a counter. The chosen name is added to `taken`; the full spec stays in run.json."""
    if not spec.startswith("torch:"):
        taken.add(spec)
        return spec
    path = Path(spec[len("torch:"):])
    base = (getattr(method, "name", "") if method is not None else "") or path.stem or spec
    candidates = [base, f"{path.parent.name}-{base}" if path.parent.name else base]
    candidates += [f"{base}-{k}" for k in range(2, 2 + len(taken) + 1)]
    name = next(c for c in candidates if c not in taken)
    taken.add(name)
    return name


def register_yaml_method(path: str | Path) -> str:
    """Register the method described by a YAML file (called from a method folder's `__init__.py`).
    Missing weights make it Unavailable (skipped with the reason) instead of an error."""
    from . import METHODS

    path = Path(path)
    name = str(load_yaml_config(path).get("name") or path.parent.name)
    METHODS.register(name, lambda **kw: method_from_yaml(path, missing_is_error=False, **kw))
    return name


__all__ = ["GenericMethod", "create_generic_method", "display_name", "method_from_yaml", "register_yaml_method", "unwrap_state"]
