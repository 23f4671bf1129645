"""serialize / deserialize: pickle's C engine with cerial's handlers plugged in.

::

    serialize(obj)
        |
        v
    fast pass: C Pickler + DISPATCH table      (plain data never leaves C)
        | fails, or refers to __main__
        v
    full pass: + reducer_override for functions and classes
        | (by value when they cannot be imported where the bytes land)
        v
    chunks --> _format.pack (header, checksum) --> bytes

Functions and classes are the two kinds the C pickler stores by name before it ever
looks at a dispatch table, so only the full pass can send them by value. The fast pass
hands them to the C pickler: it fails on lambdas and local objects, and a successful
result that names ``__main__`` is redone too, since another process has no such module.
"""

from __future__ import annotations

import pickle
import threading
import types
from typing import Any

from . import _format, _session
from ._errors import DeserializationError, SerializationError
from ._registry import DISPATCH, PROTOCOL

__all__ = ("deserialize", "serialize")

_BY_NAME = (types.FunctionType, type)
# A module name in protocol 5 is a string followed by MEMOIZE (0x94); this one pattern
# matches both "__main__" and "__mp_main__" (the main module of a spawned child).
_MAIN_MARKER = b"_main__\x94"


class _Sink:
    __slots__ = ("write",)

    def __init__(self, chunks: list[bytes]) -> None:
        self.write = chunks.append


class _FastPickler(pickle.Pickler):
    dispatch_table = DISPATCH


class _FullPickler(pickle.Pickler):
    dispatch_table = DISPATCH

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        if cls in _BY_NAME:
            return DISPATCH[cls](obj)
        return NotImplemented


class _Picklers:
    """A fast and a full pickler writing into one reusable list of chunks."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.fast = _FastPickler(_Sink(self.chunks), PROTOCOL)
        self._full: _FullPickler | None = None

    @property
    def full(self) -> _FullPickler:
        if self._full is None:
            self._full = _FullPickler(_Sink(self.chunks), PROTOCOL)
        return self._full

    def dump(self, pickler: pickle.Pickler, obj: Any) -> list[bytes]:
        chunks = self.chunks
        try:
            pickler.dump(obj)
            return chunks[:]
        finally:
            pickler.clear_memo()
            chunks.clear()


class _ThreadState(threading.local):
    """Each thread reuses its picklers: building one costs more than a tiny dump.

    A pickler keeps the output buffer its largest dump grew, and allocates one that
    size at every later dump; after a large output the thread takes fresh picklers so
    that small dumps stay cheap.
    """

    def __init__(self) -> None:
        self.picklers = _Picklers()
        self.busy = False


_state = _ThreadState()
_RENEW_AFTER = 1 << 20


def _mentions_main(chunks: list[bytes], flags: list[bool]) -> bool:
    for chunk, raw in zip(chunks, flags, strict=True):
        if not raw and _MAIN_MARKER in chunk:
            return True
    return False


def serialize(obj: Any, debug: bool = False) -> bytes:
    """Turn ``obj`` into bytes that :func:`deserialize` turns back into an equal object.

    Plain data costs about what ``pickle`` costs; on top of pickle, functions, lambdas,
    closures and classes that cannot be imported travel by value, and locks, queues,
    loggers, open files, generators and more are handled (see the package docs).

    Raises :class:`SerializationError` when something in ``obj`` cannot be stored (or
    the graph is nested deeper than the recursion limit allows). With ``debug=True`` the
    message names the path to the offending object, e.g. ``obj.config['handler']``.

    >>> deserialize(serialize({"f": lambda x: x * 2}))["f"](21)
    42
    """
    if debug is not False and debug is not True:
        raise TypeError(f"debug must be a bool, not {type(debug).__name__}")
    state = _state
    if state.busy:  # serialize() called from inside a reducer: use fresh picklers
        return _serialize(_Picklers(), obj, debug)
    state.busy = True
    try:
        data = _serialize(state.picklers, obj, debug)
    finally:
        state.busy = False
    if len(data) > _RENEW_AFTER:
        state.picklers = _Picklers()
    return data


def _serialize(picklers: _Picklers, obj: Any, debug: bool) -> bytes:
    outer = _session.begin()
    try:
        try:
            chunks = picklers.dump(picklers.fast, obj)
            flags = _format.raw_flags(chunks)
            if not _mentions_main(chunks, flags):
                return _format.pack(chunks, flags)
        except RecursionError as error:
            raise _serialization_error(obj, error, debug) from error
        except Exception:
            pass
        try:
            chunks = picklers.dump(picklers.full, obj)
        except Exception as error:
            raise _serialization_error(obj, error, debug) from error
        return _format.pack(chunks, _format.raw_flags(chunks))
    finally:
        _session.end(outer)


def _serialization_error(obj: Any, error: BaseException, debug: bool) -> SerializationError:
    if isinstance(error, SerializationError) and not debug:
        return error
    reason = f"{type(error).__name__}: {error}"
    if isinstance(error, RecursionError):
        return SerializationError(
            f"cannot serialize {type(obj).__name__}: the object graph is nested too deeply "
            f"for the recursion limit ({reason})"
        )
    if not debug:
        return SerializationError(
            f"cannot serialize {type(obj).__name__}: {reason} "
            "(call serialize(obj, debug=True) to see where in the object it fails)"
        )
    from ._ir import find_failure

    found = find_failure(obj)
    if found is None:
        return SerializationError(f"cannot serialize {type(obj).__name__}: {reason}")
    path, culprit, inner = found
    return SerializationError(
        f"cannot serialize {path} of type {type(culprit).__module__}."
        f"{type(culprit).__qualname__}: {type(inner).__name__}: {inner}",
        path=path,
        offending_type=type(culprit),
    )


def deserialize(data: bytes | bytearray | memoryview) -> Any:
    """Rebuild the object that :func:`serialize` turned into ``data``.

    Raises :class:`DeserializationError` for empty, truncated, foreign or corrupted
    input, and when rebuilding an object fails (the original error is the cause).

    Deserializing can run code, exactly like unpickling: never feed it bytes from a
    source you do not trust.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"deserialize() needs bytes, bytearray or memoryview, not {type(data).__name__}"
        )
    view = memoryview(data)
    if not view.c_contiguous:  # a strided slice: copy it into one block
        view = memoryview(view.tobytes())
    elif view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    payload = _format.unpack(view)
    try:
        return pickle.loads(payload)
    except Exception as error:
        raise DeserializationError(
            f"cannot deserialize: rebuilding the object failed ({type(error).__name__}: {error})"
        ) from error
