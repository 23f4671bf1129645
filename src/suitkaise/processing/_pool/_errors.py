"""The errors a :class:`Pool` raises on top of the tasks' own exceptions.

::

    ProcessError (processing)
    ├── BrokenPoolError      the pool cannot run tasks any more    (also BrokenProcessPool)
    └── WorkerDiedError      a worker died while running a task    (also BrokenProcessPool)
    PoolClosedError          a call on a closed or terminated pool (a RuntimeError)
    PoolTimeoutError         a call ran past its .timeout(s)       (a TimeoutError)

A task's own exception is not wrapped: it reaches the caller as the very type the
task raised, with the worker's traceback as its ``__cause__``
(:class:`~suitkaise.processing._errors.RemoteTraceback`).

The classes that extend the stdlib keep existing ``except`` clauses working:
``except BrokenProcessPool`` (as with ``concurrent.futures``), ``except TimeoutError``
and ``except RuntimeError`` catch what they would catch with the stdlib pools.
"""

from __future__ import annotations

import signal
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .._errors import ProcessError, _rebuild_error

__all__ = (
    "BrokenPoolError",
    "PoolClosedError",
    "PoolTimeoutError",
    "WorkerDiedError",
    "describe_exit",
)


class BrokenPoolError(ProcessError, BrokenProcessPool):
    """Raised by a waiting call when the pool can no longer run its tasks: it was
    terminated while the call waited, or its workers keep dying before they are ready
    (for example a spawned worker that cannot import the main module).

    It is also a :class:`concurrent.futures.process.BrokenProcessPool`.
    """

    def renewed(self) -> BrokenPoolError:
        """A new instance with the same message and cause, for one more waiting call
        (each call raises its own: raising writes to ``__traceback__``)."""
        copy = type(self)(str(self))
        copy.__cause__ = self.__cause__
        return copy


class WorkerDiedError(ProcessError, BrokenProcessPool):
    """Raised for a task whose worker process died while running it (killed by a
    signal, ``os._exit``, a crash), unless ``Pool(crash_retries=n)`` re-ran it.

    ``worker`` is the worker's number (1 ... ``workers``), ``pid`` its process id,
    ``exitcode`` its exit status (negative: the signal that killed it), ``signal`` the
    signal's name or ``None``, and ``task`` the index of the task in the call's input
    (``None`` when the worker was running several tasks at once and which one is not
    known; ``tasks`` is then the ``range`` of them). The pool stays usable: it starts a
    new worker in place of the dead one. On a cluster pool, ``address`` is the address
    of the cluster worker that died (``worker`` is 0 and ``pid`` is ``None`` there).

    Example::

        >>> from suitkaise.processing._pool import WorkerDiedError
        >>> e = WorkerDiedError("worker 1 (pid 42) was killed by signal 9 (SIGKILL)",
        ...                     worker=1, pid=42, exitcode=-9, tasks=range(7, 8))
        >>> e.signal, e.task
        ('SIGKILL', 7)
    """

    def __init__(
        self,
        message: str = "",
        *,
        worker: int = 0,
        pid: int | None = None,
        exitcode: int | None = None,
        tasks: range = range(0),
        address: str | None = None,
    ) -> None:
        super().__init__(message)
        #: The worker's number, 1 ... workers.
        self.worker = worker
        #: The worker's process id.
        self.pid = pid
        #: Its exit status; negative when a signal killed it.
        self.exitcode = exitcode
        #: The input indexes of the tasks that were lost with it.
        self.tasks = tasks
        #: The cluster worker's address (cluster pools only).
        self.address = address

    @property
    def signal(self) -> str | None:
        """The name of the signal that killed the worker (``"SIGKILL"``), or ``None``."""
        code = self.exitcode
        if code is None or code >= 0:
            return None
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"

    @property
    def task(self) -> int | None:
        """The input index of the task that was running, when it is known exactly."""
        return self.tasks[0] if len(self.tasks) == 1 else None


class PoolClosedError(RuntimeError):
    """Raised when work is given to a pool after ``close()`` or ``terminate()``, or
    from a process that inherited the pool (a pool belongs to the process that made it)."""


class PoolTimeoutError(TimeoutError):
    """Raised by ``map.timeout(s)``, ``imap.timeout(s)`` and ``unordered_imap.timeout(s)``
    when the call has not finished *s* seconds after it was made.

    The workers still running the call's tasks are killed (and replaced), so the stuck
    work does not go on in the background. ``seconds`` is the limit and ``done`` the
    number of results the caller had received. It is also a builtin ``TimeoutError``.
    """

    def __init__(self, message: str = "", *, seconds: float | None = None, done: int = 0) -> None:
        super().__init__(message)
        #: The time limit, in seconds.
        self.seconds = seconds
        #: How many results had been handed to the caller.
        self.done = done

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (type(self), self.args, dict(self.__dict__)))


def describe_exit(exitcode: int | None) -> str:
    """``"was killed by signal 9 (SIGKILL)"`` or ``"exited with code 3"``."""
    if exitcode is None:
        return "stopped responding"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown signal"
        return f"was killed by signal {-exitcode} ({name})"
    return f"exited with code {exitcode}"
