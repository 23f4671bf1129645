"""What the front end needs from a backend: run the chunks of jobs, somewhere.

A backend owns the workers. The front end (:class:`~.._pool.Pool`) builds a
:class:`~.._job.Job` per call and hands it to :meth:`Backend.submit`; from then on
the backend cuts chunks with ``job.take(limit)``, runs them, and reports with
``job.deliver(chunk, reply)`` / ``job.lost(...)`` / ``job.fail(error)``, always holding
:attr:`Backend.lock`. The caller's thread waits on the job, pulls the input and
decodes the results, and calls :meth:`Backend.wake` whenever it changed the job in a
way the backend must look at (more input, room in the window, a cancellation).

The local backend (:mod:`._local`) runs worker processes on this machine; the Dask
backend (:mod:`._dask`) runs the same chunks through the same worker code
(:func:`~.._worker.run_chunk`) on a cluster's workers.
"""

from __future__ import annotations

import abc
import threading
from typing import TYPE_CHECKING

from .._errors import BrokenPoolError, PoolClosedError

if TYPE_CHECKING:
    from .._job import Job

__all__ = ("CLOSING", "RUNNING", "Backend")

#: The states every backend shares; each adds its own for "stopping" or "stopped".
RUNNING, CLOSING = "running", "closing"


class Backend(abc.ABC):
    """The interface between a pool's front end and whatever runs its tasks."""

    #: How many tasks may run at once.
    workers: int
    #: Guards every job of this backend (the jobs' conditions use it).
    lock: threading.Lock
    #: RUNNING, CLOSING or the backend's own stopping/stopped state.
    _state: str = RUNNING
    #: What :attr:`state` says once stopped: "closed", "terminated" or "broken".
    _outcome: str = "closed"
    #: Why the backend broke, if it did.
    _broken: BrokenPoolError | None = None

    @abc.abstractmethod
    def submit(self, job: Job) -> None:
        """Start running *job*; raises ``PoolClosedError``/``BrokenPoolError`` if it cannot."""

    @abc.abstractmethod
    def wake(self) -> None:
        """A job changed (more input, consumed results, cancelled): look at it again."""

    @abc.abstractmethod
    def close(self) -> None:
        """Accept no new job; finish the submitted ones, then stop the workers."""

    @abc.abstractmethod
    def terminate(self) -> None:
        """Stop every worker now; waiting calls raise ``BrokenPoolError``."""

    @abc.abstractmethod
    def join(self, timeout: float | None = None) -> bool:
        """Wait until every worker has stopped (after close or terminate); False on timeout."""

    @property
    def state(self) -> str:
        """``"running"``, ``"closing"``, ``"closed"``, ``"terminated"`` or ``"broken"``."""
        return self._state if self._state in (RUNNING, CLOSING) else self._outcome

    def check_open(self) -> None:
        """(Lock held.) Raise ``BrokenPoolError``/``PoolClosedError`` unless running."""
        if self._state != RUNNING:
            if self._broken is not None:
                raise BrokenPoolError(str(self._broken))
            raise PoolClosedError(f"this Pool is {self.state}: it takes no new work")

    @property
    @abc.abstractmethod
    def worker_pids(self) -> list[int]:
        """The process ids of the workers alive now (empty for remote workers)."""
