"""`srbench list methods|datasets|metrics|degradations|protocols`."""
from __future__ import annotations

NAME = "list"
HELP = "list registered methods, datasets, metrics, degradations or protocols"
KINDS = ("methods", "datasets", "metrics", "degradations", "protocols")


def add_arguments(p) -> None:
    p.add_argument("kind", help="one of: " + ", ".join(KINDS))


def run(args) -> int:
    from ..errors import UserError
    from ..registry import did_you_mean

    kind = args.kind
    if kind not in KINDS:
        raise UserError(f"unknown list '{kind}'{did_you_mean(kind, KINDS)}; known: {', '.join(KINDS)}")
    if kind == "methods":
        from ..methods import discover_methods

        reg = discover_methods()
        for name in reg.names():
            cls = reg.factory(name)
            scales = ",".join(f"x{s}" for s in getattr(cls, "scales", ()))
            print(f"{name:20s} {scales:14s} {getattr(cls, 'description', '')}")
    elif kind == "metrics":
        from ..metrics import load_builtin_metrics

        reg = load_builtin_metrics()
        for name in reg.names():
            metric = reg.create(name)
            arrow = "higher better" if metric.higher_is_better else "lower better"
            print(f"{name:12s} {arrow:14s} {metric.description}")
    elif kind == "datasets":
        from ..datasets import list_datasets, verification_summary

        for name, ds_kind, count, description in list_datasets():
            print(f"{name:12s} {ds_kind:6s} {count!s:>5s} images  {description}")
            print(f"{'':12s} verified: {verification_summary(name)}")
    elif kind == "degradations":
        from ..degradations import DEGRADATIONS

        for name in DEGRADATIONS.names():
            print(f"{name:14s} {DEGRADATIONS.create(name).description}")
    else:
        from ..protocols import PROTOCOLS

        for name in PROTOCOLS.names():
            print(f"{name:10s} {PROTOCOLS.create(name).description}")
    return 0
