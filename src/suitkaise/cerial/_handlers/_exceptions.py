"""Exceptions, including those whose ``__init__`` does not take the ``args`` they keep.

pickle rebuilds an exception as ``cls(*exc.args)``, which fails on arrival for a class
such as ``def __init__(self, path, reason): super().__init__(f"{path}: {reason}")``
(one argument kept, two required). cerial makes that same call, and only when it fails
makes the exception without ``__init__`` and sets its ``args``; either way the state
that pickle keeps (``__dict__``, with ``__notes__``) is restored after. A class with a
``__reduce__`` or ``__reduce_ex__`` of its own keeps it untouched. As with pickle,
``__traceback__``, ``__cause__`` and ``__context__`` do not travel.
"""

from __future__ import annotations

from typing import Any

from .._registry import PROTOCOL, register

__all__ = ()


def _rebuild_exception(cls: type[BaseException], args: tuple[Any, ...]) -> BaseException:
    try:
        return cls(*args)
    except Exception:
        exc = cls.__new__(cls, *args)
        exc.args = args
        return exc


def _builtin_reduce(cls: type) -> bool:
    """Does ``cls`` reduce the way the built-in exceptions do (no method of its own)?"""
    for name in ("__reduce__", "__reduce_ex__"):
        owner = next(base for base in cls.__mro__ if name in vars(base))
        if owner.__module__ != "builtins":
            return False
    return True


@register(BaseException, subclasses=True)
def _exception_reduce(exc: BaseException) -> Any:
    reduced = exc.__reduce_ex__(PROTOCOL)
    cls = type(exc)
    if isinstance(reduced, tuple) and len(reduced) >= 2 and reduced[0] is cls:
        if _builtin_reduce(cls):
            return (_rebuild_exception, (cls, reduced[1]), *reduced[2:])
    return reduced
