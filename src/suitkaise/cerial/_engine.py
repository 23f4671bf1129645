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
    """A fast and a full pickler writing into one reusable list of chunks.

    Each thread reuses its picklers: building one costs more than a tiny dump, and a
    reused pickler keeps the memo table and output buffer it grew, so repeating a
    large dump skips growing them again. Keeping them is not free: every dump clears
    the whole memo table and allocates a buffer as large as the largest one so far.
    ``high`` is the largest output written (raw ranges aside: the pickler hands large
    bytes and strings to the sink directly, around its buffer and memo), and
    :func:`serialize` drops the picklers when a dump is far smaller than that.
    """

    __slots__ = ("_full", "chunks", "fast", "high")

    def __init__(self) -> None:
        self.high = 0
        self.chunks: list[bytes] = []
        self.fast = _FastPickler(_Sink(self.chunks), PROTOCOL)
        self._full: _FullPickler | None = None

    @property
    def full(self) -> _FullPickler:
        if self._full is None:
            self._full = _FullPickler(_Sink(self.chunks), PROTOCOL)
        return self._full


_local = _session.local
_loads = pickle.loads
# Drop the thread's picklers after a dump writing over _RELEASE_AFTER bytes (their
# memo and buffer are large; let the memory go), or one writing under 1/_SHRINK of
# the largest so far when that largest was over _SHRINK_FLOOR bytes.
_RELEASE_AFTER = 1 << 20
_SHRINK = 4
_SHRINK_FLOOR = 16 * 1024


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
    context = _local.context
    if context.memo is not None:  # inside a reducer (or serialize_ir): share the memo
        return _serialize(_Picklers(), obj, debug)[0]
    picklers = context.picklers
    if picklers is None:
        picklers = context.picklers = _Picklers()
    context.memo = {}
    try:
        data, written = _serialize(picklers, obj, debug)
    finally:
        context.memo = None
    high = picklers.high
    if written > high:
        picklers.high = high = written
    if written > _RELEASE_AFTER or (high > _SHRINK_FLOOR and written * _SHRINK < high):
        context.picklers = None
    return data


def _serialize(picklers: _Picklers, obj: Any, debug: bool) -> tuple[bytes, int]:
    """The fast pass, then the full pass if it failed or named ``__main__``."""
    chunks = picklers.chunks
    pickler: pickle.Pickler = picklers.fast
    try:
        pickler.dump(obj)
        packed = _format.pack(chunks, _MAIN_MARKER)
    except RecursionError as error:
        raise _serialization_error(obj, error, debug) from error
    except Exception:
        packed = None
    finally:
        pickler.clear_memo()
        chunks.clear()
    if packed is not None:
        return packed
    pickler = picklers.full
    try:
        pickler.dump(obj)
        return _format.pack(chunks)
    except Exception as error:
        raise _serialization_error(obj, error, debug) from error
    finally:
        pickler.clear_memo()
        chunks.clear()


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
    if type(data) is bytes:  # the usual case, needing none of the checks below
        view = memoryview(data)
    else:
        view = _as_view(data)
    payload = _format.unpack(view)
    try:
        return _loads(payload)
    except Exception as error:
        raise DeserializationError(
            f"cannot deserialize: rebuilding the object failed ({type(error).__name__}: {error})"
        ) from error


def _as_view(data: bytes | bytearray | memoryview) -> memoryview:
    """``data`` as a flat, contiguous memoryview of bytes."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"deserialize() needs bytes, bytearray or memoryview, not {type(data).__name__}"
        )
    view = memoryview(data)
    if not view.c_contiguous:  # a strided slice: copy it into one block
        return memoryview(view.tobytes())
    if view.format != "B" or view.ndim != 1:
        return view.cast("B")
    return view
