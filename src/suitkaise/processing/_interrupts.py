"""Ctrl-C held back while the main thread updates the state other threads share.

Python raises ``KeyboardInterrupt`` in the main thread between any two bytecodes. A
pool caller's thread hands chunks to the workers itself (nothing to wait for): it
takes a chunk from some call (maybe another thread's), puts it on a worker's list and
writes it to the worker's socket. Interrupted half-way, the chunk may be listed but
never sent, or sent in part, and the call it belongs to waits for it forever (or its
worker reads garbage). An Skprocess handle taking in its child's end is another such
sequence of steps. Inside ``with interrupts_held():`` a SIGINT is only noted; the
handler that was in place gets it as the block ends, so the interrupt is raised just
after. Blocks are short and never wait; serializing a chunk's arguments, which may
run the user's own code, happens inside one.

Only a handler installed from Python can raise there (the default one raises
``KeyboardInterrupt``); with ``SIG_DFL``, ``SIG_IGN`` or a handler set from C nothing
is held. Other threads get no signals, and a subinterpreter cannot set handlers, so
nothing is held there either. Only SIGINT is held: a handler of another signal that
raises (an alarm used as a timeout, say) can still cut such a block short.

Left in place by accident (another signal's handler raised while the handlers were
being swapped), the noting handler passes a SIGINT on to the previous one; a child
forked by another thread while a block is open gets the previous handler back.
"""

from __future__ import annotations

import importlib
import os
import signal
import threading
from types import FrameType, TracebackType
from typing import Any

try:  # the C functions: signal.signal() adds Enum conversions costing 1-2 us a call
    _handlers: Any = importlib.import_module("_signal")
except ImportError:  # pragma: no cover - not CPython
    _handlers = signal

__all__ = ("interrupts_held",)


class _NotHeld:
    """Another thread, or no Python handler to hold back: nothing to do."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NOT_HELD = _NotHeld()


class _Held:
    """Installs a handler that only notes a SIGINT; puts the previous one back."""

    __slots__ = ("active", "caught", "frame", "previous")

    def __init__(self, previous: Any) -> None:
        self.previous = previous
        self.active = False
        self.caught = False
        self.frame: FrameType | None = None

    def _note(self, signum: int, frame: FrameType | None) -> None:
        if self.active:
            if not self.caught:
                self.caught = True
                self.frame = frame
            return
        _put_back(self.previous)  # left in place by accident: pass it on
        self.previous(signum, frame)

    def __enter__(self) -> None:
        self.active = True
        try:
            _handlers.signal(signal.SIGINT, self._note)
        except ValueError:  # not the main interpreter: its signals are not ours to handle
            self.active = False
        except BaseException:  # a handler (the one in place, or another's) raised here
            self.active = False
            _put_back(self.previous)
            raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self.active:
            return
        self.active = False
        _put_back(self.previous)
        if self.caught:
            self.previous(signal.SIGINT, self.frame)


def _put_back(handler: Any) -> None:
    """Install *handler* for SIGINT (a handler of another signal raising on the way
    does not stop it: it is raised once *handler* is in place)."""
    error: BaseException | None = None
    while True:
        try:
            _handlers.signal(signal.SIGINT, handler)
            break
        except ValueError:  # not the main interpreter, or not the main thread (a fork)
            return
        except BaseException as exc:  # (run before the swap: try again)
            error = error or exc
    if error is not None:
        raise error


def _after_fork_in_child() -> None:
    # A block open in the parent stays open for good in the child (the thread that
    # opened it is not there): give the child the handler from before the first one.
    handler = first = _handlers.getsignal(signal.SIGINT)
    while getattr(handler, "__func__", None) is _Held._note:
        handler = handler.__self__.previous
    if handler is not first:
        _put_back(handler)


if hasattr(os, "register_at_fork"):  # (not on Windows, which has no fork)
    os.register_at_fork(after_in_child=_after_fork_in_child)


def interrupts_held() -> _Held | _NotHeld:
    """A context manager that holds a SIGINT back until its block ends (see the module
    docstring). Cheap outside the main thread: a check and a shared no-op object."""
    if threading.current_thread() is not threading.main_thread():
        return _NOT_HELD
    previous = _handlers.getsignal(signal.SIGINT)
    if not callable(previous):
        return _NOT_HELD
    return _Held(previous)
