"""Name -> factory registries for methods, metrics, datasets and degradations."""
from __future__ import annotations

import difflib
from typing import Callable, Generic, Iterator, TypeVar

from .errors import UserError

T = TypeVar("T")


def did_you_mean(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Registry(Generic[T]):
    """A named collection of factories; `get` fails with a did-you-mean hint."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, Callable[..., T]] = {}

    def register(self, name: str, factory: Callable[..., T] | None = None):
        def add(f):
            if name in self._items and self._items[name] is not f:
                raise ValueError(f"{self.kind} '{name}' registered twice")
            self._items[name] = f
            return f

        return add(factory) if factory is not None else add

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def names(self) -> list[str]:
        return sorted(self._items)

    def factory(self, name: str) -> Callable[..., T]:
        if name not in self._items:
            raise UserError(f"unknown {self.kind} '{name}'{did_you_mean(name, self._items)}; "
                            f"known: {', '.join(self.names())}")
        return self._items[name]

    def create(self, name: str, **kwargs) -> T:
        return self.factory(name)(**kwargs)
