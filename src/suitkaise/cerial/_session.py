"""State shared by every pickling pass of one ``serialize`` call.

``serialize`` may pickle an object twice (fast pass, then full pass). Handlers whose
reduction has a side effect, such as draining a generator, keep their result here so
the second pass sees what the first one took.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ("begin", "end", "memo")

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


def memo() -> dict[int, Any]:
    """The memo of the running ``serialize`` call (a throwaway one outside any call)."""
    current: dict[int, Any] | None = getattr(_local, "memo", None)
    return current if current is not None else {}
