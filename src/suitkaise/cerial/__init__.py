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

from . import _handlers
from ._engine import deserialize, serialize
from ._errors import CerialError, DeserializationError, SerializationError
from ._ir import serialize_ir, to_json
from ._reconnect import ReconnectError, Reconnector, reconnect_all
from ._registry import register

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

del _handlers
