"""Start methods: which one a new process uses, and the guard against re-entry.

The default is the fastest method that is safe where we run:

- Linux (and other POSIX systems but macOS): ``fork`` while the parent has no thread
  but its main thread and threads of ours known to hold no lock a child could need;
  otherwise ``forkserver`` (forking a process whose other threads may hold locks can
  deadlock the child).
- macOS and Windows: ``spawn`` (fork is unsafe with the system frameworks on macOS
  and missing on Windows).

``set_start_method()`` overrides the choice for every process started afterwards.

Before the first process it starts with the forkserver, :func:`get_context` adds
``suitkaise.processing`` (and ``ctypes``, which pool workers and the Share
coordinator load for the parent-death signal, and where there is no memfd
``multiprocessing.sharedctypes`` for a process's status array) to the forkserver's
preload list, after the
entries already there, so that a forkserver started from then on imports them once,
and every child forked from it has them already (tens of milliseconds per child
otherwise). Python 3.11's forkserver does not honour its default preload of
``__main__`` (it never gets the main module's path), so without this each child
imports the main script, and suitkaise with it, anew. A forkserver that is already
running keeps its list.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import sys
import threading

from .._forklocks import renew_in_children

__all__ = (
    "FORKSERVER_PRELOAD",
    "METHODS",
    "MISSING_MAIN_GUARD",
    "MISSING_MAIN_GUARD_EXIT",
    "bootstrapping",
    "default_start_method",
    "get_context",
    "get_start_method",
    "mark_fork_safe",
    "preload_in_forkserver",
    "set_start_method",
)

#: The start methods a process may use.
METHODS: tuple[str, ...] = ("fork", "forkserver", "spawn")

#: Exit status of a child that tried to start a process while importing the main
#: module (the parent turns it into the message below).
MISSING_MAIN_GUARD_EXIT = 79

MISSING_MAIN_GUARD = """\
a new process was started while the main module was being imported by a child process.
Under the 'spawn' and 'forkserver' start methods every child imports your main script
again, so the code that starts processes must only run in the parent. Put it under
`if __name__ == "__main__":`, for example:

    if __name__ == "__main__":
        p = MyProcess()
        p.start()
        p.wait()
"""

_override: str | None = None
_FORK_SAFE = "_suitkaise_fork_safe"
#: What every forkserver child should find imported already.
FORKSERVER_PRELOAD: tuple[str, ...] = ("suitkaise.processing", "ctypes") + (
    () if hasattr(os, "memfd_create") else ("multiprocessing.sharedctypes",)
)
_preload_lock = threading.Lock()
renew_in_children(_preload_lock)
_preload_done = False


def set_start_method(method: str | None) -> None:
    """Use *method* (``"fork"``, ``"forkserver"`` or ``"spawn"``) for processes started
    from now on; ``None`` goes back to the default choice.

    Example::

        >>> from suitkaise.processing import set_start_method, get_start_method
        >>> set_start_method("spawn")
        >>> get_start_method()
        'spawn'
        >>> set_start_method(None)
    """
    global _override
    if method is not None:
        _check_method(method)
    _override = method


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(
            f"start method must be one of {', '.join(METHODS)} or None, got {method!r}"
        )
    if method not in multiprocessing.get_all_start_methods():
        raise ValueError(f"the {method!r} start method is not available on {sys.platform}")


def get_start_method() -> str:
    """The start method the next process will use.

    Example::

        >>> from suitkaise.processing import get_start_method
        >>> get_start_method() in ("fork", "forkserver", "spawn")
        True
    """
    return _override if _override is not None else default_start_method()


def default_start_method() -> str:
    """The fastest start method that is safe on this platform in the current state."""
    available = multiprocessing.get_all_start_methods()
    if sys.platform in ("darwin", "win32") or "fork" not in available:
        return "spawn"
    if _only_safe_threads():
        return "fork"
    return "forkserver" if "forkserver" in available else "spawn"


def get_context(method: str | None = None) -> multiprocessing.context.BaseContext:
    """The multiprocessing context for *method* (default: :func:`get_start_method`)."""
    if method is None:
        method = get_start_method()
    else:
        _check_method(method)
    if method == "forkserver":
        preload_in_forkserver()
    return multiprocessing.get_context(method)


def preload_in_forkserver() -> None:
    """Add the modules of :data:`FORKSERVER_PRELOAD` to the forkserver's preload list
    (once; done by :func:`get_context` before the first forkserver process).

    It takes effect when the forkserver starts (a forkserver already running keeps its
    list); the list is extended, never replaced, so a user's own preloads stay.
    """
    global _preload_done
    with _preload_lock:
        if _preload_done or "forkserver" not in multiprocessing.get_all_start_methods():
            return
        _preload_done = True
        from multiprocessing import forkserver

        current = getattr(getattr(forkserver, "_forkserver", None), "_preload_modules", None)
        modules = list(current) if isinstance(current, (list, tuple)) else ["__main__"]
        missing = [name for name in FORKSERVER_PRELOAD if name not in modules]
        if missing:
            forkserver.set_forkserver_preload(modules + missing)


def mark_fork_safe(thread: threading.Thread) -> threading.Thread:
    """Mark one of our threads as holding no lock a forked child could need."""
    setattr(thread, _FORK_SAFE, True)
    return thread


def _only_safe_threads() -> bool:
    current = threading.current_thread()
    for thread in threading.enumerate():
        if thread is current or getattr(thread, _FORK_SAFE, False):
            continue
        return False
    return True


def bootstrapping() -> bool:
    """True while a spawn/forkserver child is importing the main module."""
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))

