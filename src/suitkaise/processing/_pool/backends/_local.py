"""The local backend: worker processes on this machine, one socket pair each.

::

    parent (dispatcher thread)                        worker process
    socket  <=========== socketpair (tasks, replies) ==========> socket
    lifeline socket  ---- never written; EOF = parent gone ----> watcher thread
    progress slot  <------- index of the running task ---------  (tracked chunks)
    exit_fd (a pidfd) <--- readable once the worker has exited

Every socket is recorded with ``_forkclose.close_in_children`` and closed in
any child forked later, so no worker, Skprocess child or user fork keeps another
worker's channel or lifeline open: a worker always sees EOF when its parent goes, and
the parent sees EOF from a worker that died (the worker's own ends survive only in
the fork that starts that worker).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import warnings
from typing import Any

from ....cerial._registry import load_builtins
from ..._context import get_context
from ..._deathsignal import load_prctl
from ..._exitfd import exit_fd
from ..._fastfork import process_class
from ..._forkclose import close_in_children, forget
from ..._sharedmem import SharedArray
from .. import _protocol as proto
from .._dispatch import Dispatcher
from .._worker import worker_main

__all__ = ("LocalBackend", "WorkerProcess")

class WorkerProcess:
    """One worker: its process, its socket, its lifeline and its progress slot.

    Made in two steps: the constructor prepares everything, :meth:`start` starts the
    process. A pool forking several workers prepares them all first: after a fork,
    every page the parent writes is copied first (the child shares it), so the work
    between two forks costs more there.
    """

    def __init__(self, ctx: Any, number: int, label: str) -> None:
        sock, child_sock = socket.socketpair()
        lifeline, child_lifeline = socket.socketpair()
        for s in (sock, child_sock):
            proto.tune(s)
        close_in_children(sock, lifeline)
        close_in_children(child_sock, child_lifeline, keep_for=threading.get_ident())
        self._ctx = ctx
        self._child_ends = (child_sock, child_lifeline)
        self.started = False
        self._discarded = False
        self.number = number
        self.sock = sock
        self.lifeline = lifeline
        # The index of the task the worker runs (-1: none), which names it if the worker dies.
        self._slot = SharedArray(ctx, "q", 1)
        self.progress: Any = self._slot.view
        self.progress[0] = -1
        parent_pid = 0 if ctx.get_start_method() == "forkserver" else os.getpid()
        self.process = process_class(ctx)(
            target=worker_main,
            args=(child_sock, child_lifeline, self._slot.for_child(), parent_pid),
            name=f"{label}-worker-{number}",
            daemon=False,  # a task may start processes of its own
        )

    def start(self) -> None:
        """Start the process; on failure, release everything (and raise)."""
        try:
            if sys.version_info >= (3, 12) and self._ctx.get_start_method() == "fork":
                with warnings.catch_warnings():
                    # 3.12+ warns about fork() in a process with threads. The pool's own
                    # threads hold no lock a worker needs (a worker only runs worker_main),
                    # as with multiprocessing.Pool, which forks from a thread too.
                    warnings.filterwarnings("ignore", r".*use of fork\(\) may lead to deadlocks",
                                            DeprecationWarning)
                    self.process.start()
            else:
                self.process.start()
            self._slot.started()
        except BaseException:
            self.discard()
            raise
        finally:
            forget(*self._child_ends)
            for end in self._child_ends:
                end.close()
        self.pid: int = self.process.pid
        self.sentinel, self._own_sentinel = exit_fd(self.process)
        self.started = True

    def discard(self) -> None:
        """Release what the constructor made, for a worker that will not start (once)."""
        if self._discarded:
            return
        self._discarded = True
        forget(*self._child_ends, self.sock, self.lifeline)
        for end in (*self._child_ends, self.sock, self.lifeline):
            end.close()
        self._slot.close()

    def kill(self) -> None:
        """SIGKILL the worker (its death is noticed through the sentinel)."""
        try:
            self.process.kill()
        except (OSError, ValueError, AttributeError):
            pass

    def reap(self, timeout: float | None = None) -> int | None:
        """Wait for the process to end; its exit code (``None`` if still running)."""
        try:
            self.process.join(timeout)
        except (AssertionError, ValueError):
            pass
        return self.process.exitcode

    def close(self) -> None:
        """Release the sockets and the process object (after :meth:`reap`)."""
        forget(self.sock, self.lifeline)
        self.sock.close()
        self.lifeline.close()
        try:
            self.process.close()
        except ValueError:  # still running: leave it to the atexit safety net
            pass
        if self._own_sentinel:
            os.close(self.sentinel)
            self._own_sentinel = False
        self._slot.close()


class LocalBackend(Dispatcher):
    """Runs tasks in ``workers`` processes started with *start_method*."""

    def __init__(self, *, workers: int, start_method: str | None = None,
                 max_tasks_per_worker: int | None = None, crash_retries: int = 0,
                 label: str = "suitkaise-pool") -> None:
        ctx = get_context(start_method)
        self.start_method = ctx.get_start_method()
        if self.start_method == "fork":
            load_prctl()  # forked workers inherit it, and cerial's handlers
            load_builtins()

        def launch(number: int) -> WorkerProcess:
            return WorkerProcess(ctx, number, label)  # (not started yet)

        super().__init__(
            workers,
            launch,
            max_tasks_per_worker=max_tasks_per_worker,
            crash_retries=crash_retries,
            label=label,
        )
