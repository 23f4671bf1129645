"""``Pool``: batch processing over persistent worker processes.

::

    _pool.py       front end: Pool, map/imap/unordered_imap, star(), modifiers
    _job.py        one call: lazy input, chunks, ordered/unordered results
    _chunking.py   adaptive chunk size (task time, result size)
    _dispatch.py   the local backend's scheduler thread (sockets, sentinels, deaths)
    _worker.py     the worker process loop
    _protocol.py   the wire format between the two
    backends/      the Backend interface and the local process backend

Names are loaded on first use, so a worker process that imports
``suitkaise.processing._pool._worker`` does not pay for the front end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._errors import BrokenPoolError, PoolClosedError, PoolTimeoutError, WorkerDiedError
    from ._pool import Pool

__all__ = ("BrokenPoolError", "Pool", "PoolClosedError", "PoolTimeoutError", "WorkerDiedError")

_ERRORS = ("BrokenPoolError", "PoolClosedError", "PoolTimeoutError", "WorkerDiedError")


def __getattr__(name: str) -> Any:
    if name == "Pool":
        from ._pool import Pool

        return Pool
    if name in _ERRORS:
        from . import _errors

        return getattr(_errors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
