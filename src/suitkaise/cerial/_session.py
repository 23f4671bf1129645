"""State shared by every pickling pass of one ``serialize`` call.

``serialize`` may pickle an object twice (fast pass, then full pass). Handlers whose
reduction has a side effect, such as draining a generator, keep their result here so
the second pass sees what the first one took.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_local = threading.local()


@contextmanager
def session() -> Iterator[dict[int, Any]]:
    """Open (or join) the memo of the current ``serialize`` call on this thread."""
    outer = getattr(_local, "memo", None)
    if outer is not None:
        yield outer
        return
    _local.memo = memo = {}
    try:
        yield memo
    finally:
        _local.memo = None


def memo() -> dict[int, Any]:
    """The memo of the running ``serialize`` call (a throwaway one outside any call)."""
    current = getattr(_local, "memo", None)
    return current if current is not None else {}
