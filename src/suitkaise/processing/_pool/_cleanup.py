"""Work that a finalizer asks for, done by a thread of its own.

A finalizer (``__del__``, ``weakref.finalize``) may run inside a garbage collection,
and a collection runs in whichever thread happens to allocate: a pool's dispatcher
holding the pool's lock, say, or a thread in the middle of ``Thread.start()``. Ending
a call or a pool there takes that same lock, or starts a thread, and can deadlock.
So a finalizer only puts the work on a ``queue.SimpleQueue`` (whose ``put`` is safe
in finalizers), and the cleanup thread, started by ordinary code beforehand
(:func:`ready`), runs each piece in a thread of its own (one slow piece, a pool's
terminate, say, holds none of the others up; one that fails is reported as a
thread's error). These threads run only the pool's own code, so they do not make
the default start method a safer one than ``fork`` (see ``mark_fork_safe``). A
forked child starts with an empty queue: what its parent had to clean up is not the
child's.
"""

from __future__ import annotations

import atexit
import os
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any

from ..._forklocks import renew_in_children
from .._context import mark_fork_safe

__all__ = ("later", "ready", "watch_exit")

_work: queue.SimpleQueue[tuple[Callable[..., Any], dict[str, Any]]] = queue.SimpleQueue()
_lock = threading.Lock()
renew_in_children(_lock)
_thread: threading.Thread | None = None
_pid = 0


def _forget_in_child() -> None:
    global _work
    _work = queue.SimpleQueue()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def ready() -> None:
    """Make sure the cleanup thread runs in this process (call it from ordinary code,
    before a finalizer may need it)."""
    global _thread, _pid
    if _thread is not None and _pid == os.getpid() and _thread.is_alive():
        return
    with _lock:
        if _thread is None or _pid != os.getpid() or not _thread.is_alive():
            _thread = threading.Thread(target=_serve, name="suitkaise-pool-cleanup", daemon=True)
            mark_fork_safe(_thread).start()
            _pid = os.getpid()


def later(work: Callable[..., Any], **kwargs: Any) -> None:
    """Have the cleanup thread call ``work(**kwargs)``; safe inside a finalizer.

    At interpreter exit (no thread runs any more by then) the work is done at once.
    """
    if _exiting or sys.is_finalizing():
        work(**kwargs)
    else:
        _work.put((work, kwargs))


def _serve() -> None:
    work_queue = _work
    while True:
        work, kwargs = work_queue.get()
        # A piece that fails is reported as any thread's error (threading.excepthook).
        thread = threading.Thread(target=work, kwargs=kwargs, name="suitkaise-pool-cleanup-work",
                                  daemon=True)
        try:
            mark_fork_safe(thread).start()
        except RuntimeError:  # no thread to be had: do it here
            try:
                work(**kwargs)
            except Exception:  # (reported like a thread's own error, and go on)
                threading.excepthook(_thread_error(thread))
        del work, kwargs, thread


def _thread_error(thread: threading.Thread) -> Any:
    """What threading.excepthook takes for the exception being handled."""
    kind, value, tb = sys.exc_info()
    return threading.ExceptHookArgs((kind, value, tb, thread))


_exiting = False  # the interpreter is exiting: finalizers run at once (no thread would)
_exit_watched = False


def watch_exit() -> None:
    """Note the interpreter's exit before ``weakref.finalize``'s own exit hook (made
    with the first finalizer) runs the finalizers: atexit runs last in, first out, so
    call this after making a finalizer."""
    global _exit_watched
    if not _exit_watched:
        _exit_watched = True
        atexit.register(_note_exit)


def _note_exit() -> None:
    global _exiting
    _exiting = True
