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
        try:
            reduced = reducer(obj)
            if isinstance(reduced, str):
                node["global"] = f"{getattr(obj, '__module__', '?')}.{reduced}"
                return
            if not isinstance(reduced, tuple) or not 2 <= len(reduced) <= 6:
                raise TypeError(
                    f"{node['handler']} returned {type(reduced).__name__}, not a reduce tuple"
                )
            if not isinstance(reduced[1], tuple):
                raise TypeError(
                    f"{node['handler']} returned arguments of type {type(reduced[1]).__name__}, "
                    "not a tuple"
                )
        except _Failure:
            raise
        except Exception as error:
            raise _Failure(path, obj, error) from error
        self.keep.append(reduced)
        rebuild, args, state, listitems, dictitems = (tuple(reduced) + (None,) * 4)[:5]
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


def serialize_ir(obj: Any) -> dict[str, Any]:
    """The intermediate representation of ``obj``: a tree of plain data.

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
    finally:
        _session.end(outer)


def to_json(obj: Any, indent: int | None = 2) -> str:
    """``serialize_ir(obj)`` rendered as JSON, for humans and tools."""
    return json.dumps(serialize_ir(obj), indent=indent)


def find_failure(obj: Any) -> tuple[str, Any, BaseException] | None:
    """Where serializing ``obj`` fails: (path, offending object, error), or None."""
    try:
        _Walker().walk(obj, "obj")
    except _Failure as failure:
        return failure.path, failure.obj, failure.error
    except RecursionError:
        return None
    return None
