"""The serialized task function of a call, made once per function while it cannot change.

Every call serializes its task function. A function defined in ``__main__`` or locally
travels by value (its code, the globals it uses, its defaults and cells): about 13 µs
each time, and several times that right after a fork (the parent's first writes to
its memory then copy pages). :func:`function_bytes` keeps the bytes of a function
whose serialized form can only change through what it checks on each use: no
closure cells, no ``__dict__``, no annotations, defaults of plain immutable values, no
globals but modules (which travel by name) and plain immutable values (and which
names are defined), and whether it travels by name at all. Any other function is
serialized every time.
"""

from __future__ import annotations

import types
import weakref
from typing import Any

from ... import cerial
from ...cerial._handlers._functions import global_names
from ...cerial._handlers._tracking import by_reference_name

__all__ = ("function_bytes",)

_ATOMS = (type(None), bool, int, float, complex, str, bytes)
# function -> (its bytes, what they were made from)
_kept: weakref.WeakKeyDictionary[types.FunctionType, tuple[bytes, tuple[Any, ...]]] = (
    weakref.WeakKeyDictionary()
)


def function_bytes(fn: Any) -> bytes:
    """``cerial.serialize(fn)``, reused while *fn* is unchanged (see the module docs)."""
    if type(fn) is not types.FunctionType:
        return cerial.serialize(fn)
    made_from = _made_from(fn)
    if made_from is None:
        return cerial.serialize(fn)
    kept = _kept.get(fn)
    if kept is not None and kept[1] == made_from:
        return kept[0]
    data = cerial.serialize(fn)
    _kept[fn] = (data, made_from)
    return data


def _made_from(fn: types.FunctionType) -> tuple[Any, ...] | None:
    """What *fn*'s bytes are made from, compared by identity; None if that cannot
    tell every change (a cell, a ``__dict__``, a mutable default or global)."""
    if fn.__closure__ is not None or fn.__dict__ or fn.__kwdefaults__ is not None:
        return None
    defaults = fn.__defaults__
    if defaults is not None and not all(type(d) in _ATOMS for d in defaults):
        return None
    if fn.__annotations__:
        return None
    namespace = fn.__globals__
    used = []
    for name in global_names(fn.__code__):
        value = namespace.get(name, _MISSING)
        if value is not _MISSING and type(value) is not types.ModuleType and (
                type(value) not in _ATOMS):
            return None
        used.append((name, _Same(value)))  # (a name missing now may be defined later)
    return (_Same(fn.__code__), _Same(namespace), _Same(defaults), fn.__name__,
            fn.__qualname__, fn.__module__, fn.__doc__, by_reference_name(fn), *used)


class _Same:
    """Equal only to a _Same of the very same object."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.obj is self.obj

    def __hash__(self) -> int:
        return id(self.obj)


_MISSING = object()
