"""Keeping the coordinator from outliving the process that created its Share.

The owner holds one end of a socket pair and never writes to it; the coordinator
watches the other end among its connections and stops at EOF, which the kernel
delivers however the owner ends (exit, Ctrl-C, crash, SIGKILL). On Linux the
coordinator also asks for SIGKILL when its parent dies (``PR_SET_PDEATHSIG``), which
reaches it even while it runs a long method of a shared object.

An end of the pipe copied into another process would hide the EOF, so the owner's end
is closed in every process forked from the owner (``_forkclose``); spawn and forkserver
children never inherit it (only the fds passed are kept).
"""

from __future__ import annotations

import os

from .._deathsignal import set_death_signal

__all__ = ("die_with_parent",)


def die_with_parent(parent_pid: int) -> bool:
    """Linux: have the kernel SIGKILL this process when its parent dies.

    Returns False when the parent is already gone (the caller should exit), True
    otherwise (also where the call is not available).
    """
    if not set_death_signal():
        return True
    return not parent_pid or os.getppid() == parent_pid
