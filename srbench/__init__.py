"""srbench: benchmark single-image super-resolution with MATLAB-faithful metrics.

Python API (see `srbench.api`): `srbench.run(...)`, `srbench.create_metric(name)`,
`srbench.create_method(name)`, `srbench.list_methods()`, `srbench.list_metrics()`.
"""

__version__ = "0.1.0"

_API = ("run", "create_metric", "create_method", "list_methods", "list_metrics")


def __getattr__(name):
    # Imported on first use, so that `import srbench` (and the CLI, which reads __version__) stays cheap.
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'srbench' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_API))


__all__ = ["__version__", *_API]
