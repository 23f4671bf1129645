"""processing: run Python code in other processes without the usual pain.

``Skprocess`` turns a process into a class: inherit from it, write ``__run__`` (and
any of ``__prerun__``, ``__postrun__``, ``__onfinish__``, ``__result__``,
``__error__``), then ``start()``/``wait()``/``result()``. The instance travels to its
process with cerial, so anything cerial handles can sit on ``self``.

Example::

    >>> from suitkaise.processing import Skprocess
    >>> class Square(Skprocess):
    ...     def __init__(self, x):
    ...         self.x = x
    ...         self.process_config.runs = 1
    ...     def __run__(self):
    ...         self.y = self.x * self.x
    ...     def __result__(self):
    ...         return self.y
    >>> Square(7).run()
    49

Data passed to and from processes is deserialized with cerial, which is as powerful
as unpickling: only exchange data with processes you started yourself.
"""

from __future__ import annotations

from ._autoreconnect import autoreconnect
from ._config import ProcessConfig
from ._context import get_start_method, set_start_method
from ._errors import (
    ErrorHandlerError,
    OnFinishError,
    PostRunError,
    PreRunError,
    ProcessError,
    ProcessTimeoutError,
    RemoteTraceback,
    ResultError,
    ResultTimeoutError,
    RunError,
)
from ._pool import BrokenPoolError, Pool, PoolClosedError, PoolTimeoutError, WorkerDiedError
from ._process import Skprocess
from ._share import CoordinatorDiedError, Share, ShareClosedError, ShareError

__all__ = (
    "BrokenPoolError",
    "CoordinatorDiedError",
    "ErrorHandlerError",
    "OnFinishError",
    "Pool",
    "PoolClosedError",
    "PoolTimeoutError",
    "PostRunError",
    "PreRunError",
    "ProcessConfig",
    "ProcessError",
    "ProcessTimeoutError",
    "RemoteTraceback",
    "ResultError",
    "ResultTimeoutError",
    "RunError",
    "Share",
    "ShareClosedError",
    "ShareError",
    "Skprocess",
    "WorkerDiedError",
    "autoreconnect",
    "get_start_method",
    "set_start_method",
)

# Show the public names where users import them from (tracebacks, reprs, pickling).
for _cls in (
    ErrorHandlerError, OnFinishError, PostRunError, PreRunError, ProcessConfig, ProcessError,
    ProcessTimeoutError, RemoteTraceback, ResultError, ResultTimeoutError, RunError, Skprocess,
    CoordinatorDiedError, Share, ShareClosedError, ShareError,
    BrokenPoolError, Pool, PoolClosedError, PoolTimeoutError, WorkerDiedError,
):
    _cls.__module__ = __name__
del _cls
