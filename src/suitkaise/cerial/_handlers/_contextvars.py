"""``contextvars.ContextVar``: one shared variable per original, with the sender's value.

A ContextVar is an identity (code looks values up by the variable object), so each
original gets a tracker id the first time it is sent:

- in the process that created it, deserializing returns the very same variable;
- in any other process, the first copy creates ``ContextVar(name, default=...)``
  and every later copy of the same original returns that one variable.

The value the sender saw (in its current context) travels too, and is set in the
receiver's *current* context when the variable is deserialized, so code that reads it
there sees what the sender saw. A variable with no value in the sender's context
leaves the receiver's context untouched. Variables sent are kept alive for the life of
the process (ContextVars are meant to be created once, at module level).

A ``contextvars.Token`` belongs to one ``set()`` call in one context: ``TypeError``.
"""

from __future__ import annotations

import contextvars
import threading
import uuid
from typing import Any

from .._registry import register

__all__ = ()

_MISSING = object()
_lock = threading.Lock()
_sent: dict[int, tuple[str, contextvars.ContextVar[Any]]] = {}
_by_tid: dict[str, contextvars.ContextVar[Any]] = {}


class _NoValue:
    """Marks "no default" / "no value" in the reduce args (travels by name)."""

    def __reduce__(self) -> str:
        return "NO_VALUE"


NO_VALUE = _NoValue()


def _tracker_id(var: contextvars.ContextVar[Any]) -> str:
    with _lock:
        entry = _sent.get(id(var))
        if entry is None or entry[1] is not var:
            entry = (uuid.uuid4().hex, var)
            _sent[id(var)] = entry
            _by_tid[entry[0]] = var
        return entry[0]


def _rebuild_contextvar(
    tid: str, name: str, default: Any, value: Any
) -> contextvars.ContextVar[Any]:
    with _lock:
        var = _by_tid.get(tid)
        if var is None:
            if default is NO_VALUE:
                var = contextvars.ContextVar(name)
            else:
                var = contextvars.ContextVar(name, default=default)
            _by_tid[tid] = var
            _sent[id(var)] = (tid, var)  # sent on from here, it keeps the original's id
    if value is not NO_VALUE:
        var.set(value)
    return var


@register(contextvars.ContextVar)
def _contextvar_reduce(var: contextvars.ContextVar[Any]) -> tuple[Any, ...]:
    # The default is only readable from a context where the variable has no value.
    try:
        default = contextvars.Context().run(var.get)
    except LookupError:
        default = NO_VALUE
    value = var.get(_MISSING)
    args = (_tracker_id(var), var.name, default, NO_VALUE if value is _MISSING else value)
    return _rebuild_contextvar, args


@register(contextvars.Token)
def _token_reduce(token: contextvars.Token[Any]) -> tuple[Any, ...]:
    raise TypeError(
        f"cannot serialize a contextvars.Token of {token.var.name!r}: a token belongs to "
        "one set() call in one context; send the variable (or its value) instead"
    )
