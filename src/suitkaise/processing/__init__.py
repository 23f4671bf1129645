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

import importlib
import sys
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from ._autoreconnect import autoreconnect
    from ._config import ProcessConfig
    from ._context import get_start_method, set_start_method
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

# The other public names are loaded on first use (PEP 562), each from the module that
# defines it: a pool worker imports this package but needs none of them, and loading
# them all costs a spawned worker tens of milliseconds.
_LAZY = {
    "BrokenPoolError": "._pool._errors",
    "CoordinatorDiedError": "._share._errors",
    "Pool": "._pool._pool",
    "PoolClosedError": "._pool._errors",
    "PoolTimeoutError": "._pool._errors",
    "ProcessConfig": "._config",
    "Share": "._share._api",
    "ShareClosedError": "._share._errors",
    "ShareError": "._share._errors",
    "Skprocess": "._process",
    "WorkerDiedError": "._pool._errors",
    "autoreconnect": "._autoreconnect",
    "get_start_method": "._context",
    "set_start_method": "._context",
}


def _publish(obj: Any) -> None:
    """Show a public class where users import it from (tracebacks, reprs, pickling)."""
    if isinstance(obj, type):
        obj.__module__ = __name__


def _publish_loaded() -> None:
    """Bind every lazy name whose module is loaded (by whatever import path), so that
    the classes the loaded code raises or returns carry the public module name too."""
    namespace = globals()
    for name, module_name in _LAZY.items():
        if name not in namespace:
            module = sys.modules.get(__name__ + module_name)
            if module is not None and name in vars(module):
                obj = namespace[name] = vars(module)[name]
                _publish(obj)


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    importlib.import_module(module_name, __name__)
    _publish_loaded()
    return globals()[name]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


for _cls in (
    ErrorHandlerError, OnFinishError, PostRunError, PreRunError, ProcessError,
    ProcessTimeoutError, RemoteTraceback, ResultError, ResultTimeoutError, RunError,
):
    _publish(_cls)
del _cls
