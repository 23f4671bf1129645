"""Ctrl-C held back while the main thread updates the state other threads share.

Python raises ``KeyboardInterrupt`` in the main thread between any two bytecodes. A
caller's thread hands chunks to the workers itself (nothing to wait for), and that
takes a chunk from some call (maybe another thread's), puts it on a worker's list and
writes it to the worker's socket. Interrupted half-way, the chunk may be listed but
never sent, or sent in part, and the call it belongs to waits for it forever (or its
worker reads garbage). Inside ``with interrupts_held():`` a SIGINT is only noted; the
handler that was in place gets it as the block ends, so the interrupt is raised just
after.

Only a handler installed from Python can raise there (the default one raises
``KeyboardInterrupt``); with ``SIG_DFL``, ``SIG_IGN`` or a handler set from C nothing
is held. Other threads get no signals, so nothing is held there either.
"""

from __future__ import annotations

import importlib
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

    __slots__ = ("caught", "frame", "previous")

    def __init__(self, previous: Any) -> None:
        self.previous = previous
        self.caught = False
        self.frame: FrameType | None = None

    def _note(self, signum: int, frame: FrameType | None) -> None:
        if not self.caught:
            self.caught = True
            self.frame = frame

    def __enter__(self) -> None:
        _handlers.signal(signal.SIGINT, self._note)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        _handlers.signal(signal.SIGINT, self.previous)
        if self.caught:
            self.previous(signal.SIGINT, self.frame)


def interrupts_held() -> _Held | _NotHeld:
    """A context manager that holds a SIGINT back until its block ends (see the module
    docstring). Cheap outside the main thread: a check and a shared no-op object."""
    if threading.current_thread() is not threading.main_thread():
        return _NOT_HELD
    previous = _handlers.getsignal(signal.SIGINT)
    if not callable(previous):
        return _NOT_HELD
    return _Held(previous)
