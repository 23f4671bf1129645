"""A small table that keeps the values of its most recently used keys."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ("Recent",)

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """The value of each key, made by *make(key)* on its first use; only the *limit*
    most recently used keys are kept (the oldest goes when a new one comes)."""

    def __init__(self, limit: int, make: Callable[[K], V]) -> None:
        self._limit = limit
        self._make = make
        self._values: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V:
        """The value for *key*, made now if it is new."""
        values = self._values
        if key in values:
            values.move_to_end(key)
            return values[key]
        value = values[key] = self._make(key)
        if len(values) > self._limit:
            values.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every key."""
        self._values.clear()
