"""Classes: by name when importable, otherwise by value.

A class sent by value is rebuilt as a skeleton (same metaclass, name, bases and
``__slots__``) and its attributes are set afterwards, so methods that refer back to the
class (``super()``, ``return MyClass(...)``) find the one rebuilt class. Enums are
rebuilt with their members through the enum metaclass itself.
"""

from __future__ import annotations

import abc
import enum
import types
from collections.abc import Mapping
from typing import Any, cast

from .._registry import register
from . import _tracking

__all__ = ()

_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: the class was written in Python, not C
_SKIP = frozenset(
    {"__dict__", "__weakref__", "__slots__", "__module__", "__qualname__", "_abc_impl"}
)


def _enum_internals() -> frozenset[str]:
    """The names the enum machinery itself puts in an enum class's namespace."""
    names: set[str] = set()
    for base in (enum.Enum, enum.IntEnum, enum.Flag, enum.IntFlag, enum.StrEnum):
        members = {"A": "a"} if base is enum.StrEnum else {"A": 1}
        probe = cast(Any, base)("_Probe", members)  # the functional API, typed loosely
        names |= set(vars(probe)) - {"A"}
    return frozenset(names)


_ENUM_INTERNALS = _enum_internals()


def _type_by_identity(cls: type) -> Any:
    for name, value in vars(types).items():
        if value is cls:
            return getattr, (types, name)
    raise TypeError(
        f"cannot serialize the built-in class {cls.__module__}.{cls.__qualname__}: "
        "it is neither importable by name nor a class that can be rebuilt"
    )


def _slot_names(cls: type) -> set[str]:
    slots = cls.__dict__.get("__slots__", ())
    return {slots} if isinstance(slots, str) else set(slots)


def _defined_in(cls: type, value: Any) -> bool:
    """Is ``value`` a function (or class/static method) written in the body of ``cls``?"""
    qualname = getattr(getattr(value, "__func__", value), "__qualname__", None)
    return isinstance(qualname, str) and qualname.startswith(f"{cls.__qualname__}.")


def _enum_skip(cls: type, members: dict[str, Any]) -> frozenset[str]:
    """What the enum machinery rebuilds by itself: its internals and the members.

    An internal name that the class overrides in its own body (``__str__``,
    ``__format__``, a docstring) is the user's, and travels.
    """
    own = {
        name
        for name, value in vars(cls).items()
        if name in _ENUM_INTERNALS and (name == "__doc__" or _defined_in(cls, value))
    }
    return (_ENUM_INTERNALS - own) | frozenset(members)


def _class_state(cls: type, skip: set[str] | frozenset[str]) -> dict[str, Any]:
    state = {k: v for k, v in vars(cls).items() if k not in _SKIP and k not in skip}
    if isinstance(cls, abc.ABCMeta):
        registry = abc._get_dump(cls)[0]  # type: ignore[attr-defined]
        state["_abc_registry"] = [sub for sub in (ref() for ref in registry) if sub is not None]
    return state


def _rebuild_class(
    metaclass: type, name: str, bases: tuple[type, ...], namespace: dict[str, Any], tid: str
) -> type:
    existing = _tracking.lookup(tid)
    if existing is not None:
        return existing
    cls = types.new_class(name, bases, {"metaclass": metaclass}, lambda ns: ns.update(namespace))
    _tracking.mark_rebuilt(tid, cls)
    return cls


def _rebuild_enum(
    metaclass: type,
    name: str,
    bases: tuple[type, ...],
    namespace: dict[str, Any],
    members: dict[str, Any],
    tid: str,
) -> type:
    existing = _tracking.lookup(tid)
    if existing is not None:
        return existing
    body = metaclass.__prepare__(name, bases)
    body.update(namespace)
    for member, value in members.items():
        body[member] = value
    cls = metaclass(name, bases, body)
    _tracking.mark_rebuilt(tid, cls)
    return cls


def _set_class_state(cls: type, state: dict[str, Any]) -> type:
    if not _tracking.needs_state(cls):
        return cls
    registry = state.pop("_abc_registry", ())
    for key, value in state.items():
        if key not in vars(cls) or vars(cls)[key] is not value:
            setattr(cls, key, value)
    for subclass in registry:
        cls.register(subclass)  # type: ignore[attr-defined]
    _tracking.state_done(cls)
    return cls


@register(type, subclasses=True)
def _class_reduce(cls: type) -> Any:
    name = _tracking.by_reference_name(cls)
    if name is not None:
        return name
    if not cls.__flags__ & _HEAPTYPE:
        return _type_by_identity(cls)
    tid = _tracking.tracker_id(cls)
    namespace: dict[str, Any] = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
    if "__slots__" in vars(cls):
        namespace["__slots__"] = vars(cls)["__slots__"]
    slots = _slot_names(cls)
    metaclass = type(cls)
    if isinstance(cls, enum.EnumMeta) and cls.__members__:
        enum_members: Mapping[str, enum.Enum] = cls.__members__
        members = {name: member._value_ for name, member in enum_members.items()}
        state = _class_state(cls, slots | _enum_skip(cls, members))
        enum_args = (metaclass, cls.__name__, cls.__bases__, namespace, members, tid)
        return _rebuild_enum, enum_args, state, None, None, _set_class_state
    state = _class_state(cls, slots)
    args = (metaclass, cls.__name__, cls.__bases__, namespace, tid)
    return _rebuild_class, args, state, None, None, _set_class_state
