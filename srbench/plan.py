"""The plan of a run: which methods and metrics run, and the list of work items (method x dataset x scale x
image) in the order the tables list them.

Planning builds each method's network once (its identity digests the weights) and records methods that
cannot run (skipped or failed) with their errors, so an executor only has items to evaluate and the
tabulation only has to put results in plan order.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import results_cache
from .degradations import DEGRADATIONS
from .devices import resolve_device
from .errors import Unavailable, UserError
from .metrics import EvalContext, Metric, load_builtin_metrics
from .methods import SRMethod, discover_methods, provenance_of
from .run_layout import sr_image_path
from .skips import short_reason

# ma_pirm (not ma) so that Ma is computed once per image, shared with pi (both PIRM protocol: Y, 4-px shave)
DEFAULT_METRICS = ("psnr_y", "ssim_y", "rmse", "gsm", "niqe", "niqe_pirm", "ma_pirm", "pi")
FAILED_PREFIX = "failed: "
from .errors import MAX_MESSAGE  # noqa: E402,F401 (kept importable from here)


def warn(message: str) -> None:
    print(f"srbench: {message}", file=sys.stderr, flush=True)


def one_line(exc: BaseException) -> str:
    """An exception's message on one line without terminal escape codes (see `srbench.errors.one_line`)."""
    from .errors import one_line as _one_line

    return _one_line(exc)


# ------------------------------------------------------------------ cache keys

def metric_key(metric: Metric, ctx: EvalContext) -> str:
    return f"{metric.identity()}|{ctx.protocol.name}|crop{ctx.crop_border}"


def method_key(method: SRMethod, identity: str) -> str:
    """Everything about a method that changes its SR output: the identity (name, scale, weights sha256),
    the adapter's version, and tiling and device (tiles and GPU kernels change the last float bits, which
    can flip a uint8 rounding)."""
    version = getattr(method, "version", "1")
    overlap = getattr(method, "tile_overlap", None)
    device = getattr(getattr(method, "device", None), "type", "cpu")
    return f"{identity}|v{version}|tile{method.tile}/{overlap}|{device}"


def degradation_key(name: str, protocol: str = "matlab") -> str:
    """The LR an SR output was made from: the degradation, and the protocol's LR input when it is not uint8."""
    from .protocols import get_protocol

    deg = DEGRADATIONS.create(name)
    lr_input = get_protocol(protocol).lr_input
    return f"{deg.name}-v{deg.version}" + ("" if lr_input == "uint8" else f"-{lr_input}")


# ------------------------------------------------------------------ selection

def select_methods(names: list[str], scales: list[int], config) -> list[tuple[str, SRMethod | None, str]]:
    """[(name, method or None, reason)] in a stable order; method None: the reason says why it is
    skipped (Unavailable) or, prefixed with FAILED_PREFIX, why its adapter failed to construct."""
    registry = discover_methods()
    if names == ["all"]:
        names = [n for n in registry.names()
                 if any(s in registry.factory(n).scales for s in scales)]
    for name in names:  # every name is checked before any network is built
        if not name.startswith("torch:"):
            registry.factory(name)
    device = resolve_device(config.device)  # select_methods is also called on its own, before runner.run
    selected = []
    taken = {n for n in names if not n.startswith("torch:")}  # torch: methods get short unique names
    for name in names:
        if name.startswith("torch:"):
            from .methods.generic import create_generic_method, display_name

            method = create_generic_method(name, config.arch, device=device, tile=config.tile)
            selected.append((display_name(name, method, taken), method, ""))
            continue
        user_weights = (getattr(config, "weights", None) or {}).get(name)
        try:
            method = registry.create(name, device=device, tile=config.tile,
                                     **({"weights": user_weights} if user_weights else {}))
        except UserError:
            raise  # bad input (e.g. an unusable --device): the run must not start
        except Unavailable as exc:
            selected.append((name, None, str(exc)))
            continue
        except Exception as exc:  # a broken adapter fails alone; the other methods still run
            selected.append((name, None, FAILED_PREFIX + one_line(exc)))
            continue
        selected.append((name, method, ""))
    return selected


def select_metrics(names: list[str] | None) -> tuple[list[Metric], dict[str, str]]:
    registry = load_builtin_metrics()
    explicit = names is not None
    names = list(names) if explicit else [n for n in DEFAULT_METRICS if n in registry]
    metrics, unavailable = [], {}
    for name in names:
        if name.startswith("pyiqa:"):
            from .metrics.pyiqa_bridge import create_pyiqa_metric

            metric = create_pyiqa_metric(name)
        else:
            metric = registry.create(name)
        try:
            metric.prepare()
        except Unavailable as exc:
            unavailable[name] = str(exc)
            continue
        metrics.append(metric)
    return metrics, unavailable


# ------------------------------------------------------------------ the plan

@dataclass(frozen=True)
class WorkItem:
    """One image of one dataset super-resolved by one method at one scale.

    `index` is the item's position in the plan (the tables' row order, whatever order items complete in).
    The cache keys of the item are `record_key(hr_sha)` and `sr_key(hr_sha)`: they digest the method key,
    the HR pixels (known once the image is read), the scale and the degradation."""

    index: int
    method: str
    dataset: str
    scale: int
    image: str
    path: Path
    mkey: str  # method_key(...) of the method at this scale
    degradation: str  # degradation_key(...)
    sr_out: Path | None  # the run folder's copy of the SR image (None: --no-save-sr)

    @property
    def label(self) -> str:
        return str(self.path)  # errors name the file; the stderr line adds method, dataset and scale

    def record_key(self, hr_sha: str) -> str:
        return results_cache.make_key("record", self.mkey, hr_sha, self.scale, self.degradation)

    def sr_key(self, hr_sha: str) -> str:
        return results_cache.make_key("sr", self.mkey, hr_sha, self.scale, self.degradation)


@dataclass
class PlanError:
    """An error known at planning time (a method that failed for a scale), placed before item `position`."""

    position: int
    row: dict


@dataclass
class Plan:
    items: list[WorkItem]
    metrics: list[Metric]
    contexts: dict[int, EvalContext]  # scale -> evaluation context
    methods: dict[tuple[str, int], tuple[SRMethod, str]]  # (name, scale) -> (method, identity)
    methods_info: dict[str, dict]
    errors: list[PlanError] = field(default_factory=list)

    def method(self, item: WorkItem) -> tuple[SRMethod, str]:
        return self.methods[(item.method, item.scale)]


def build_plan(config, methods: list[tuple[str, SRMethod | None, str]], datasets, metrics: list[Metric],
               out: Path) -> Plan:
    """Items in the order scale, method, dataset, image (the tables' order)."""
    plan = Plan(items=[], metrics=metrics, contexts={}, methods={}, methods_info={})
    deg = degradation_key(config.degradation, config.protocol)
    for scale in config.scales:
        plan.contexts[scale] = EvalContext.make(scale, config.protocol, config.crop_border)
        for name, method, reason in methods:
            info = plan.methods_info.setdefault(name, {"status": "ok", "scales": {},
                                                       "provenance": provenance_of(name, method, config.weights)})
            if getattr(method, "spec", None):
                info["spec"] = method.spec  # the full torch:... path; tables use the short name
            if method is None:
                _record_unusable(plan, name, reason, scale, datasets, info)
                continue
            try:
                method.check_protocol(plan.contexts[scale].protocol)
                identity = method.identity(scale)
            except Unavailable as exc:
                _record_unusable(plan, name, str(exc), scale, datasets, info)
                continue
            except Exception as exc:  # bad weights, a broken adapter: this method fails, the run goes on
                _record_unusable(plan, name, FAILED_PREFIX + one_line(exc), scale, datasets, info)
                continue
            info["scales"][str(scale)] = {"status": "ok", "identity": identity}
            plan.methods[(name, scale)] = (method, identity)
            mkey = method_key(method, identity)
            for ds in datasets:
                for image in ds.images:
                    sr_out = sr_image_path(out, name, ds.name, scale, image.name) if config.save_sr else None
                    plan.items.append(WorkItem(index=len(plan.items), method=name, dataset=ds.name, scale=scale,
                                               image=image.name, path=image.path, mkey=mkey, degradation=deg,
                                               sr_out=sr_out))
    for name, info in plan.methods_info.items():
        statuses = {s["status"] for s in info["scales"].values()}
        info["status"] = "ok" if "ok" in statuses else "failed" if "failed" in statuses else "skipped"
        if info["status"] != "ok":
            info["reason"] = "; ".join(s["reason"] for s in info["scales"].values())
    return plan


def _record_unusable(plan: Plan, name: str, reason: str, scale: int, datasets, info: dict) -> None:
    """A method that could not be constructed: skipped (Unavailable) or failed (an error per dataset)."""
    if not reason.startswith(FAILED_PREFIX):
        short = short_reason(name, reason)  # once per method and reason, on one line; the full reason: run.json
        if not any(short_reason(name, s.get("reason", "")) == short for s in info["scales"].values()):
            warn(f"skipping {name} x{scale}: {short}")
        info["scales"][str(scale)] = {"status": "skipped", "reason": reason}
        return
    message = reason[len(FAILED_PREFIX):]
    info["scales"][str(scale)] = {"status": "failed", "reason": message}
    for ds in datasets:
        plan.errors.append(PlanError(len(plan.items), {"method": name, "dataset": ds.name, "scale": scale,
                                                       "image": "*", "metric": "", "error": message,
                                                       "images": len(ds.images)}))  # for summary's `failed`
    warn(f"error: {name} x{scale}: {message}")
