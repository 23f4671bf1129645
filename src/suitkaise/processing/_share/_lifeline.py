"""Keeping the coordinator from outliving the process that created its Share.

The owner holds one end of a socket pair and never writes to it; the coordinator
watches the other end among its connections and stops at EOF, which the kernel
delivers however the owner ends (exit, Ctrl-C, crash, SIGKILL). On Linux the
coordinator also asks for SIGKILL when its parent dies (``PR_SET_PDEATHSIG``), which
reaches it even while it runs a long method of a shared object.

An end of the pipe copied into another process would hide the EOF, so:

- every process forked from the owner closes its copies at once
  (:func:`protect` registers the end; ``os.register_at_fork`` closes them);
- spawn and forkserver children never inherit it (only the fds passed are kept).

The same small pieces exist in ``processing/_runner.py`` for Skprocess children,
but as private helpers of that module's child loop (a thread that calls
``os._exit``); the coordinator needs the EOF as an event of its own select loop
instead, so this module keeps its own copy of the ``prctl`` call.
"""

from __future__ import annotations

import os
import threading
import weakref
from multiprocessing.connection import Connection

from .._deathsignal import set_death_signal

__all__ = ("die_with_parent", "forget_after_fork", "protect")


# Owner ends of lifelines (and other fds) that no forked child may keep open.
_protected: weakref.WeakSet[Connection] = weakref.WeakSet()
_protected_lock = threading.Lock()


def protect(conn: Connection) -> Connection:
    """Close *conn* in every process forked from this one from now on."""
    with _protected_lock:
        _protected.add(conn)
    return conn


def forget_after_fork() -> None:
    """In a forked child: close the copies of every protected end."""
    global _protected_lock
    _protected_lock = threading.Lock()
    for conn in list(_protected):
        try:
            conn.close()
        except OSError:
            pass
    _protected.clear()


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=forget_after_fork)


def die_with_parent(parent_pid: int) -> bool:
    """Linux: have the kernel SIGKILL this process when its parent dies.

    Returns False when the parent is already gone (the caller should exit), True
    otherwise (also where the call is not available).
    """
    if not set_death_signal():
        return True
    return not parent_pid or os.getppid() == parent_pid
