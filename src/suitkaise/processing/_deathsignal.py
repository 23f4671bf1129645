"""Linux's parent-death signal: have the kernel SIGKILL a process when its parent goes.

Used by the processes that must not outlive the one that started them (pool workers,
the Share coordinator). The kernel sends the signal even to a process stuck holding
the GIL in C code, which no watcher thread could stop. ``prctl`` comes from libc via
ctypes; :func:`load_prctl` loads it once, so a parent can load it before forking and
its forked children start without importing ctypes (milliseconds).
"""

from __future__ import annotations

import signal
import sys
from typing import Any

__all__ = ("load_prctl", "set_death_signal")

_PR_SET_PDEATHSIG = 1
_prctl: Any = None


def load_prctl() -> Any:
    """``libc.prctl`` (Linux), loaded once; ``False`` where it is not available."""
    global _prctl
    if _prctl is None:
        _prctl = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                _prctl = ctypes.CDLL(None, use_errno=True).prctl
            except (OSError, AttributeError):
                pass
    return _prctl


def set_death_signal() -> bool:
    """Ask for SIGKILL when this process's parent (the *thread* that started it) ends;
    True if the kernel took it. The caller should then check ``os.getppid()``: a parent
    gone before the call was already replaced by another."""
    prctl = load_prctl()
    return bool(prctl) and prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
