"""The messages between a Share's clients and its coordinator.

Every message is a frame: a 4-byte big-endian length, then a :mod:`marshal`-encoded
tuple ``(op, *fields)``. marshal is only used for the envelope (op codes, names,
paths and plain scalars, which it encodes several times faster than pickle);
every other value travels as :mod:`cerial` bytes inside it:

- ``encode(v)``: ``int``, ``float``, ``complex``, ``str``, ``bool`` and ``None`` go as
  they are; anything else (``bytes`` too, so that there is no ambiguity) becomes
  ``cerial.serialize(v)``. ``decode`` reverses it: a ``bytes`` field is cerial.
- a *path* names one object in the coordinator: ``(name, step, step, ...)`` where a
  step is ``(ATTR, "attr")`` or ``(ITEM, encoded key)``.

Requests are *writes* (nothing comes back unless they fail) or *calls* (exactly one
reply). Replies and notices::

    (OK, encoded value)          a call's result, by value
    (PROXY,)                     the result is mutable: use a proxy for the path
    (ERROR, cerial (exc, tb))    the call raised
    (NOTICE, cerial (exc, tb), what)
                                 an earlier write on this connection failed
    (BYE, applied, reason)       the coordinator is ending ("exit", "owner" gone or
                                 "crash"); it applied *applied* writes of this
                                 connection in all

The channel is authenticated before any frame is read (HMAC challenge with the
Share's secret), so both ends trust what they decode.
"""

from __future__ import annotations

import marshal
import struct
from typing import Any

from ... import cerial

__all__ = (
    "ACK", "ATTR", "BYE", "CALL", "CLEAR", "DEL", "DELATTR", "DELITEM", "ERROR", "EXIT", "FIELDS",
    "GET",
    "GETATTR", "GETITEM", "HEADER", "HELLO", "IOP", "ITEM", "NAMES", "NOTICE", "OK", "PROXY",
    "SET", "SETATTR", "SETITEM", "SPECIAL", "SYNC", "WRITES", "decode", "encode", "frame",
    "unframe",
)

# ----------------------------------------------------------------- requests
HELLO = 0      # () -> (OK, coordinator pid)
GET = 1        # (name,) -> value or PROXY
SET = 2        # (name, value)                       write
DEL = 3        # (name,)                             write
IOP = 4        # (path, symbol, value)               write: obj = obj <symbol> value
GETATTR = 5    # (path, attr) -> value or PROXY
SETATTR = 6    # (path, attr, value)                 write
DELATTR = 7    # (path, attr)                        write
GETITEM = 8    # (path, key) -> value or PROXY
SETITEM = 9    # (path, key, value)                  write
DELITEM = 10   # (path, key)                         write
CALL = 11      # (path, method or None, args) -> value
SPECIAL = 12   # (path, dunder, args) -> value       len, iter, repr, ==, + ...
NAMES = 13     # () -> tuple of names
CLEAR = 14     # () -> None
EXIT = 15      # () -> cerial bytes of the final {name: object}; the coordinator ends
SYNC = 16      # () -> None: every earlier write of every client is applied
ACK = 17       # (count,): the client has read *count* more notices (not a counted write)

#: How many fields follow each request's op.
FIELDS: dict[int, int] = {
    HELLO: 0, GET: 1, SET: 2, DEL: 1, IOP: 3, GETATTR: 2, SETATTR: 3, DELATTR: 2, GETITEM: 2,
    SETITEM: 3, DELITEM: 2, CALL: 3, SPECIAL: 3, NAMES: 0, CLEAR: 0, EXIT: 0, SYNC: 0, ACK: 1,
}

#: The requests that get no reply unless they fail.
WRITES = frozenset({SET, DEL, IOP, SETATTR, DELATTR, SETITEM, DELITEM, ACK})

# ----------------------------------------------------------------- replies
OK = 0
PROXY = 1
ERROR = 2
NOTICE = 3
BYE = 4

# ----------------------------------------------------------------- path steps
ATTR = 0
ITEM = 1

HEADER = struct.Struct("!I")
_INLINE = frozenset({int, float, complex, str, bool, type(None)})


def encode(value: Any) -> Any:
    """A value as it travels inside a message (see the module docstring)."""
    if type(value) in _INLINE:
        return value
    return cerial.serialize(value)


def decode(field: Any) -> Any:
    """The value an :func:`encode`-d field stands for."""
    if type(field) is bytes:
        return cerial.deserialize(field)
    return field


def frame(message: tuple[Any, ...]) -> bytes:
    """The bytes on the wire for *message*."""
    body = marshal.dumps(message)
    return HEADER.pack(len(body)) + body


def unframe(buffer: bytearray) -> list[tuple[Any, ...]]:
    """Remove every complete frame from the front of *buffer* and return them decoded."""
    messages = []
    start, size = 0, len(buffer)
    view = memoryview(buffer)
    try:
        while size - start >= 4:
            (length,) = HEADER.unpack_from(buffer, start)
            end = start + 4 + length
            if end > size:
                break
            messages.append(marshal.loads(view[start + 4:end]))
            start = end
    finally:
        view.release()
    if start:
        del buffer[:start]
    return messages
