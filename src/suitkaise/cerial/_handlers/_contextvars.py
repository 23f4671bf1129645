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
from typing import Any

from .._registry import register
from ._tracking import KeptIds

__all__ = ()

_MISSING = object()
_vars = KeptIds()  # a ContextVar cannot be weakly referenced


class _NoValue:
    """Marks "no default" / "no value" in the reduce args (travels by name)."""

    def __reduce__(self) -> str:
        return "NO_VALUE"


NO_VALUE = _NoValue()


def _rebuild_contextvar(
    tid: str, name: str, default: Any, value: Any
) -> contextvars.ContextVar[Any]:
    def make() -> contextvars.ContextVar[Any]:
        if default is NO_VALUE:
            return contextvars.ContextVar(name)
        return contextvars.ContextVar(name, default=default)

    var = _vars.get_or_make(tid, make)  # sent on from here, it keeps the original's id
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
    args = (_vars.tracker_id(var), var.name, default, NO_VALUE if value is _MISSING else value)
    return _rebuild_contextvar, args


@register(contextvars.Token)
def _token_reduce(token: contextvars.Token[Any]) -> tuple[Any, ...]:
    raise TypeError(
        f"cannot serialize a contextvars.Token of {token.var.name!r}: a token belongs to "
        "one set() call in one context; send the variable (or its value) instead"
    )
