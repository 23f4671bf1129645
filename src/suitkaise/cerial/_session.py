"""State shared by every pickling pass of one ``serialize`` call, per thread.

``serialize`` may pickle an object twice (fast pass, then full pass). Handlers whose
reduction has a side effect, such as draining a generator, keep their result here (with
:func:`once`) so the second pass sees what the first one took.

Each thread has one :class:`Context` (``local.context``): ``memo`` is the running
call's memo (None between calls, so it also says whether a call is running), and
``picklers`` is where the engine keeps the picklers the thread reuses. The engine reads
both directly: a tiny ``serialize`` takes a few microseconds, and each function call or
thread-local lookup here would show.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ("Context", "begin", "end", "local", "once")

T = TypeVar("T")


class Context:
    """One thread's ``serialize`` state (a plain object: slots are cheap to reach)."""

    __slots__ = ("memo", "picklers")

    def __init__(self) -> None:
        self.memo: dict[int, Any] | None = None
        self.picklers: Any = None


class _Local(threading.local):
    def __init__(self) -> None:
        self.context = Context()


local = _Local()


def begin() -> dict[int, Any] | None:
    """Open the memo of a ``serialize`` call; returns the enclosing one (or None)."""
    context = local.context
    outer = context.memo
    if outer is None:
        context.memo = {}
    return outer


def end(outer: dict[int, Any] | None) -> None:
    """Close what the matching :func:`begin` opened."""
    if outer is None:
        local.context.memo = None


def once(obj: Any, compute: Callable[[], T]) -> T:
    """``compute()`` for ``obj`` the first time in this ``serialize`` call; that result after.

    Outside a call there is nothing to share, and ``compute()`` simply runs.
    """
    current = local.context.memo
    if current is None:
        return compute()
    entry = current.get(id(obj))
    if entry is None or entry[0] is not obj:
        entry = current[id(obj)] = (obj, compute())
    result: T = entry[1]
    return result
