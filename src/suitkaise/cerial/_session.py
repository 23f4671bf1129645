"""State shared by every pickling pass of one ``serialize`` call.

``serialize`` may pickle an object twice (fast pass, then full pass). Handlers whose
reduction has a side effect, such as draining a generator, keep their result here (with
:func:`once`) so the second pass sees what the first one took.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ("begin", "end", "once")

T = TypeVar("T")

_local = threading.local()


def begin() -> dict[int, Any] | None:
    """Open the memo of a ``serialize`` call; returns the enclosing one (or None)."""
    outer: dict[int, Any] | None = getattr(_local, "memo", None)
    if outer is None:
        _local.memo = {}
    return outer


def end(outer: dict[int, Any] | None) -> None:
    """Close what the matching :func:`begin` opened."""
    if outer is None:
        _local.memo = None


def _memo() -> dict[int, Any]:
    """The memo of the running ``serialize`` call (a throwaway one outside any call)."""
    current: dict[int, Any] | None = getattr(_local, "memo", None)
    return current if current is not None else {}


def once(obj: Any, compute: Callable[[], T]) -> T:
    """``compute()`` for ``obj`` the first time in this ``serialize`` call; that result after."""
    current = _memo()
    entry = current.get(id(obj))
    if entry is None or entry[0] is not obj:
        entry = current[id(obj)] = (obj, compute())
    return entry[1]
