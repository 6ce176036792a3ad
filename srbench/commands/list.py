"""`srbench list methods|archs|datasets|metrics|degradations|protocols`."""
from __future__ import annotations

NAME = "list"
HELP = "list registered methods, architectures (for --arch), datasets, metrics, degradations or protocols"
KINDS = ("methods", "archs", "datasets", "metrics", "degradations", "protocols")


def add_arguments(p) -> None:
    p.add_argument("kind", help="one of: " + ", ".join(KINDS))


def archs() -> list[tuple[str, str, str]]:
    """(name, scales, description) of every architecture `--arch` accepts for torch:PATH methods: the
    built-in ones and those that method folders register, then every registered method with weights (its
    checkpoint is built and run exactly as the method runs its own)."""
    from ..archs import ARCHS, _register_builtins
    from ..methods import BASELINE, discover_methods

    methods = discover_methods()  # method folders register their architectures on import
    _register_builtins()
    rows = []
    for name in ARCHS.names():
        spec = ARCHS.create(name)
        scales = ",".join(f"x{s}" for s in spec.scales) or "any"
        rows.append((name, scales, spec.description))
    for name in methods.names():
        cls = methods.factory(name)
        if name in ARCHS or getattr(cls, "provenance", "") == BASELINE:
            continue  # an architecture name wins; bicubic has nothing to load
        scales = ",".join(f"x{s}" for s in getattr(cls, "scales", ()))
        rows.append((name, scales, f"method {name}: its own network and forward pass (= --methods {name} --weights)"))
    return rows


def run(args) -> int:
    from ..errors import UserError
    from ..registry import did_you_mean

    kind = args.kind
    if kind not in KINDS:
        raise UserError(f"unknown list '{kind}'{did_you_mean(kind, KINDS)}; known: {', '.join(KINDS)}")
    if kind == "methods":
        from ..methods import discover_methods

        reg = discover_methods()
        print(f"{'method':20s} {'scales':14s} {'provenance':26s} description")
        for name in reg.names():
            cls = reg.factory(name)
            scales = ",".join(f"x{s}" for s in getattr(cls, "scales", ()))
            provenance = getattr(cls, "provenance", "") or "undeclared"
            print(f"{name:20s} {scales:14s} {provenance:26s} {getattr(cls, 'description', '')}")
    elif kind == "archs":
        for name, scales, description in archs():
            print(f"{name:20s} {scales:14s} {description}")
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
