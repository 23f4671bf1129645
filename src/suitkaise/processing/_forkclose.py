"""Pipe and socket ends that no forked child may keep open.

A process learns that its peer is gone from EOF, which only comes once every copy of
the peer's end is closed. A child forked for any reason -- a Skprocess, a pool worker,
a Share coordinator, the user's own ``os.fork()`` -- starts with a copy of every
descriptor of its parent, so each end that signals by EOF (lifelines, the parent's
ends of a process's channels) is registered here with :func:`close_in_children`, and
every forked child closes its copies at once (``os.register_at_fork``). Spawn and
forkserver children never inherit them (they keep only the descriptors passed to
them).

An end registered with *keep_for* survives in the children forked by that thread: the
child's own end of a channel, while the thread that starts that child forks it. Ends
are held weakly: an end that is collected is forgotten; :func:`forget` forgets one at
once (it was closed, or handed over).
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

__all__ = ("close_in_children", "forget")

# end (anything with close()) -> the thread whose own forks keep it (None: no thread).
# No lock: one insertion or removal is atomic under the GIL, and only a forked child,
# which has a single thread, walks the table. (A lock held while an insertion's weak
# reference triggers a garbage collection could deadlock a finalizer that forgets.)
_ends: weakref.WeakKeyDictionary[Any, int | None] = weakref.WeakKeyDictionary()


def close_in_children(*ends: Any, keep_for: int | None = None) -> None:
    """Close *ends* in every child forked from now on, but in those forked by the
    thread whose ident is *keep_for*."""
    for end in ends:
        _ends[end] = keep_for


def forget(*ends: Any) -> None:
    """Stop closing *ends* in forked children."""
    for end in ends:
        _ends.pop(end, None)


def _after_fork_in_child() -> None:
    # A freshly forked child has one thread, the one that forked.
    me = threading.get_ident()
    for end, keeper in list(_ends.items()):
        if keeper != me:
            try:
                end.close()
            except OSError:
                pass
    _ends.clear()


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)
