"""The intermediate representation: what ``serialize`` does to an object, as plain data.

``serialize_ir(obj)`` walks the object graph the way the pickler does, and returns a
tree of dicts, lists, strings and numbers that names each object's type and the
handler that stores it. Objects seen twice (shared references, cycles) appear once with
an ``"id"``, and later as ``{"ref": id}``. The same walk, with a path kept, finds where
in an object graph serialization fails (``serialize(obj, debug=True)``).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator
from typing import Any

from . import _session
from ._errors import SerializationError
from ._registry import DISPATCH, is_default

__all__ = ("find_failure", "serialize_ir", "to_json")

_ATOMS = (type(None), bool, int, str)
_BINARY = (bytes, bytearray)
_SEQUENCES = (list, tuple, set, frozenset)


class _Failure(Exception):
    def __init__(self, path: str, obj: Any, error: BaseException) -> None:
        super().__init__(path)
        self.path, self.obj, self.error = path, obj, error


def _qualname(obj: Any) -> str:
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)
    return f"{module}.{name}" if module and module != "builtins" else str(name)


def _handler_name(reducer: Any) -> str:
    if is_default(reducer):
        return "pickle"
    return getattr(reducer, "__name__", None) or type(reducer).__name__


def _unpack(reduced: Any, who: str) -> tuple[Any, tuple[Any, ...], Any, Any, Any]:
    """Check a reduce tuple as the pickler would: (rebuild, args, state, listitems, dictitems)."""
    if not isinstance(reduced, tuple) or not 2 <= len(reduced) <= 6:
        got = (
            f"a {len(reduced)}-item tuple" if isinstance(reduced, tuple) else type(reduced).__name__
        )
        raise TypeError(
            f"{who} returned {got}, not a string or a reduce tuple of 2 to 6 items "
            "(rebuild, args[, state, listitems, dictitems, state_setter])"
        )
    rebuild, args, state, listitems, dictitems = (reduced + (None,) * 4)[:5]
    if not isinstance(args, tuple):
        raise TypeError(f"{who} returned arguments of type {type(args).__name__}, not a tuple")
    for name, items in (("listitems", listitems), ("dictitems", dictitems)):
        if items is not None and not isinstance(items, Iterator):
            raise TypeError(
                f"{who} returned {name} of type {type(items).__name__}, not an iterator"
            )
    return rebuild, args, state, listitems, dictitems


def _pairs(dictitems: Iterator[Any], who: str) -> list[tuple[Any, Any]]:
    pairs = list(dictitems)
    for item in pairs:
        if not isinstance(item, tuple) or len(item) != 2:
            raise TypeError(f"{who} returned dictitems holding {item!r}, not (key, value) pairs")
    return pairs


def _state_children(state: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(state, dict) and all(isinstance(k, str) for k in state):
        for key, value in state.items():
            yield (f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"), value
    elif (
        isinstance(state, tuple)
        and len(state) == 2
        and (state[0] is None or isinstance(state[0], dict))
        and isinstance(state[1], dict)
    ):
        for part in state:
            yield from _state_children(part or {}, path)
    else:
        yield f"{path}.__getstate__()", state


class _Walker:
    def __init__(self) -> None:
        self.ids: dict[int, int] = {}
        self.keep: list[Any] = []

    def _seen(self, obj: Any) -> dict[str, Any] | None:
        number = self.ids.get(id(obj))
        if number is not None:
            return {"ref": number}
        self.ids[id(obj)] = len(self.ids)
        self.keep.append(obj)
        return None

    def walk(self, obj: Any, path: str) -> Any:
        cls = type(obj)
        if cls in _ATOMS:
            return {"type": cls.__name__, "value": obj}
        if cls is float:
            return {"type": "float", "value": obj if math.isfinite(obj) else repr(obj)}
        seen = self._seen(obj)
        if seen is not None:
            return seen
        builtin = cls in _BINARY or cls in _SEQUENCES or cls is dict
        node: dict[str, Any] = {
            "type": cls.__name__ if builtin else _qualname(cls),
            "id": self.ids[id(obj)],
        }
        if cls in _BINARY:
            node["base64"] = base64.b64encode(obj).decode("ascii")
        elif cls in (list, tuple):
            node["items"] = [self.walk(item, f"{path}[{i}]") for i, item in enumerate(obj)]
        elif cls in (set, frozenset):
            node["items"] = [self.walk(item, f"{path}{{{i}}}") for i, item in enumerate(obj)]
        elif cls is dict:
            node["items"] = [
                [self.walk(k, f"{path}.keys()[{i}]"), self.walk(v, f"{path}[{k!r}]")]
                for i, (k, v) in enumerate(obj.items())
            ]
        else:
            self._reduce_into(node, obj, path)
        return node

    def _reduce_into(self, node: dict[str, Any], obj: Any, path: str) -> None:
        reducer = DISPATCH[type(obj)]
        node["handler"] = _handler_name(reducer)
        who = f"{_qualname(type(obj))}.__reduce_ex__()" if is_default(reducer) else node["handler"]
        try:
            reduced = reducer(obj)
            if isinstance(reduced, str):
                node["global"] = f"{getattr(obj, '__module__', '?')}.{reduced}"
                return
            rebuild, args, state, listitems, dictitems = _unpack(reduced, who)
            if dictitems is not None:
                dictitems = _pairs(dictitems, who)
        except Exception as error:
            raise _Failure(path, obj, error) from error
        self.keep.append(reduced)
        node["rebuild"] = _qualname(rebuild)
        node["args"] = [self.walk(a, f"{path}.<arg {i}>") for i, a in enumerate(args)]
        if state is not None:
            node["state"] = self._walk_state(state, path)
        if listitems is not None:
            node["listitems"] = [self.walk(v, f"{path}[{i}]") for i, v in enumerate(listitems)]
        if dictitems is not None:
            node["dictitems"] = [
                [self.walk(k, f"{path}.keys()"), self.walk(v, f"{path}[{k!r}]")]
                for k, v in dictitems
            ]

    def _walk_state(self, state: Any, path: str) -> Any:
        children = list(_state_children(state, path))
        if len(children) == 1 and children[0][0] == f"{path}.__getstate__()":
            return self.walk(state, children[0][0])
        return {name[len(path) :].lstrip("."): self.walk(value, name) for name, value in children}


def _too_deep(obj: Any, error: RecursionError) -> SerializationError:
    return SerializationError(
        f"cannot describe {_qualname(type(obj))}: the object graph is nested too deeply "
        f"for the recursion limit ({type(error).__name__}: {error})"
    )


def serialize_ir(obj: Any) -> dict[str, Any]:
    """The intermediate representation of ``obj``: a tree of plain data.

    Raises :class:`SerializationError` where ``serialize`` would fail, naming the path
    to the offending object.

    >>> serialize_ir([1, "a"])["items"][1]
    {'type': 'str', 'value': 'a'}
    """
    outer = _session.begin()
    try:
        return _Walker().walk(obj, "obj")
    except _Failure as failure:
        raise SerializationError(
            f"cannot describe {failure.path} of type {_qualname(type(failure.obj))}: "
            f"{type(failure.error).__name__}: {failure.error}",
            path=failure.path,
            offending_type=type(failure.obj),
        ) from failure.error
    except RecursionError as error:
        raise _too_deep(obj, error) from error
    finally:
        _session.end(outer)


def to_json(obj: Any, indent: int | None = 2) -> str:
    """``serialize_ir(obj)`` rendered as JSON, for humans and tools.

    >>> print(to_json(b"hi", indent=None))
    {"type": "bytes", "id": 0, "base64": "aGk="}
    """
    tree = serialize_ir(obj)
    try:
        return json.dumps(tree, indent=indent)
    except RecursionError as error:
        raise _too_deep(obj, error) from error


def find_failure(obj: Any) -> tuple[str, Any, BaseException] | None:
    """Where serializing ``obj`` fails: (path, offending object, error), or None.

    None too when the walk itself cannot finish (say, the graph is too deep for it):
    the caller then reports the pickler's own error.
    """
    try:
        _Walker().walk(obj, "obj")
    except _Failure as failure:
        return failure.path, failure.obj, failure.error
    except Exception:
        return None
    return None
