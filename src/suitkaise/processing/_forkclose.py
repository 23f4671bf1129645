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

import functools
import os
import threading
import weakref
from typing import Any

__all__ = ("close_in_children", "forget")

# id(end) -> (a weak reference to the end, the thread whose own forks keep it). A plain
# dict of weak references rather than a WeakKeyDictionary: the hook below runs in every
# forked child, where each object it touches costs a page copy, and a WeakKeyDictionary
# walk touched enough of them to take ~0.1 ms. No lock: one insertion or removal is
# atomic under the GIL, and only a forked child, which has a single thread, walks the
# table. (A lock held while an insertion triggers a garbage collection could deadlock a
# finalizer that forgets.)
_ends: dict[int, tuple[weakref.ref[Any], int | None]] = {}


def close_in_children(*ends: Any, keep_for: int | None = None) -> None:
    """Close *ends* in every child forked from now on, but in those forked by the
    thread whose ident is *keep_for*."""
    for end in ends:
        key = id(end)
        _ends[key] = (weakref.ref(end, functools.partial(_collected, key)), keep_for)


def forget(*ends: Any) -> None:
    """Stop closing *ends* in forked children."""
    for end in ends:
        entry = _ends.get(id(end))
        if entry is not None and entry[0]() is end:
            del _ends[id(end)]


def _collected(key: int, ref: weakref.ref[Any]) -> None:
    """An end was collected: forget it (unless its id already names a newer end)."""
    entry = _ends.get(key)
    if entry is not None and entry[0] is ref:
        del _ends[key]


def _after_fork_in_child() -> None:
    # A freshly forked child has one thread, the one that forked.
    if not _ends:
        return
    me = threading.get_ident()
    for ref, keeper in list(_ends.values()):
        end = ref()
        if end is not None and keeper != me:
            try:
                end.close()
            except OSError:
                pass
    _ends.clear()


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)
