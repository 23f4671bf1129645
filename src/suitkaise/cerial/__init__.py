"""cerial: the serializer every part of suitkaise uses.

Plain data costs about what :mod:`pickle` costs. On top of pickle, cerial stores
functions, lambdas, closures and classes that cannot be imported (by value), bound
methods, ``functools.partial``, locks and the other ``threading`` primitives, queues
with their items, loggers, compiled regexes, open files, ``StringIO``/``BytesIO``,
generators (their remaining items), ``ContextVar``, weakrefs, ``__slots__`` objects,
cycles and shared references. Resources that cannot travel (sockets, database
connections) become :class:`Reconnector` placeholders; :func:`reconnect_all` brings
them back to life.

>>> from suitkaise import cerial
>>> data = cerial.serialize({"double": lambda x: 2 * x})
>>> cerial.deserialize(data)["double"](21)
42

Deserializing can run code, exactly like unpickling: never deserialize bytes from a
source you do not trust.

A class may control its own form with ``__serialize__(self) -> state`` and a
classmethod ``__deserialize__(cls, state) -> obj``; these win over every built-in
handler. New types are taught with :func:`register`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._engine import deserialize, serialize
from ._errors import CerialError, DeserializationError, SerializationError
from ._registry import register

if TYPE_CHECKING:
    from ._ir import serialize_ir, to_json
    from ._reconnect import ReconnectError, Reconnector, reconnect_all

__all__ = (
    "CerialError",
    "DeserializationError",
    "ReconnectError",
    "Reconnector",
    "SerializationError",
    "deserialize",
    "reconnect_all",
    "register",
    "serialize",
    "serialize_ir",
    "to_json",
)

# Loaded on first use (PEP 562), like the built-in handlers (see ``_registry``): a
# process that only serializes and deserializes does not pay for them.
_LAZY = {
    "ReconnectError": "._reconnect",
    "Reconnector": "._reconnect",
    "reconnect_all": "._reconnect",
    "serialize_ir": "._ir",
    "to_json": "._ir",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
