"""Stand-ins for the objects a Share's coordinator holds.

A :class:`Proxy` names one object in the coordinator by its *path* from a shared name
(``share.d["k"].items`` is ``("d", (ITEM, "k"), (ATTR, "items"))``) and forwards what
is done to it: attribute reads and writes, method calls, items, ``len``, iteration
(a snapshot), ``in``, comparisons, arithmetic, ``repr``. The path is looked up again
for every request, so a proxy always reaches what the name holds *now*.

Reads return plain values for immutable results (numbers, strings, tuples...) and a
further proxy for mutable ones; method calls and operators return their result by
value (a copy).

:class:`Augmented` is what ``share.x`` evaluates to inside ``share.x op= v`` (see
``_ops``): its in-place operator sends one atomic request and returns
:data:`APPLIED`, which the following attribute or item store recognises and skips.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from ... import cerial
from ._errors import ShareError
from ._ops import LAZY, METHOD, VALUE, attribute_use, item_use, refuse_unsafe_update
from ._protocol import (
    ATTR,
    CALL,
    DELATTR,
    DELITEM,
    GETATTR,
    GETITEM,
    IOP,
    ITEM,
    SETATTR,
    SETITEM,
    SPECIAL,
    encode,
)

if TYPE_CHECKING:
    from ._api import Share

__all__ = ("APPLIED", "Augmented", "Proxy", "RemoteMethod", "encode_args", "same_target")

_INLINE = frozenset({int, float, complex, str, bool, type(None)})


class _Applied:
    """The result of an augmented assignment that the coordinator already applied."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<applied in the Share's coordinator>"

    def __reduce__(self) -> str:
        return "APPLIED"


#: Marker returned by :class:`Augmented`'s in-place operators.
APPLIED = _Applied()


def encode_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Arguments of a CALL or SPECIAL request: a plain tuple when it is only scalars."""
    if not kwargs:
        for arg in args:
            if type(arg) not in _INLINE:
                break
        else:
            return args
    return cerial.serialize((args, kwargs))


def same_target(value: Any, share: Share, path: tuple[Any, ...]) -> bool:
    """True when *value* is a proxy for *path* of *share* (storing it there is a no-op)."""
    return (
        type(value) is Proxy
        and value._sk_path == path
        and value._sk_share._sk_address == share._sk_address
    )


class Augmented:
    """``share.x`` in the middle of ``share.x op= v``: the operator runs in the coordinator."""

    __slots__ = ("_sk_path", "_sk_share")

    def __init__(self, share: Share, path: tuple[Any, ...]) -> None:
        self._sk_share = share
        self._sk_path = path

    def _sk_apply(self, symbol: str, value: Any) -> _Applied:
        self._sk_share._sk_write((IOP, self._sk_path, symbol, encode(value)))
        return APPLIED

    def __iadd__(self, value: Any) -> _Applied:
        return self._sk_apply("+=", value)

    def __isub__(self, value: Any) -> _Applied:
        return self._sk_apply("-=", value)

    def __imul__(self, value: Any) -> _Applied:
        return self._sk_apply("*=", value)

    def __imatmul__(self, value: Any) -> _Applied:
        return self._sk_apply("@=", value)

    def __itruediv__(self, value: Any) -> _Applied:
        return self._sk_apply("/=", value)

    def __ifloordiv__(self, value: Any) -> _Applied:
        return self._sk_apply("//=", value)

    def __imod__(self, value: Any) -> _Applied:
        return self._sk_apply("%=", value)

    def __ipow__(self, value: Any) -> _Applied:
        return self._sk_apply("**=", value)

    def __ilshift__(self, value: Any) -> _Applied:
        return self._sk_apply("<<=", value)

    def __irshift__(self, value: Any) -> _Applied:
        return self._sk_apply(">>=", value)

    def __iand__(self, value: Any) -> _Applied:
        return self._sk_apply("&=", value)

    def __ixor__(self, value: Any) -> _Applied:
        return self._sk_apply("^=", value)

    def __ior__(self, value: Any) -> _Applied:
        return self._sk_apply("|=", value)

    def __repr__(self) -> str:
        return f"<augmented assignment to {_path_text(self._sk_path)}>"


class RemoteMethod:
    """``proxy.method``, about to be called: the call runs in the coordinator."""

    __slots__ = ("_sk_name", "_sk_path", "_sk_share")

    def __init__(self, share: Share, path: tuple[Any, ...], name: str) -> None:
        self._sk_share = share
        self._sk_path = path
        self._sk_name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        share = self._sk_share
        request = (CALL, self._sk_path, self._sk_name, encode_args(args, kwargs))
        return share._sk_value(share._sk_call(request))

    def __repr__(self) -> str:
        return f"<shared method {_path_text(self._sk_path)}.{self._sk_name}>"


def _special(name: str) -> Any:
    def forward(self: Proxy, *args: Any) -> Any:
        share = self._sk_share
        request = (SPECIAL, self._sk_path, name, encode_args(args, {}))
        return share._sk_value(share._sk_call(request))

    forward.__name__ = name
    return forward


_snapshot = _special("__iter__")
_reversed = _special("__reversed__")
_repr = _special("__repr__")
_dir = _special("__dir__")


def _inplace(symbol: str) -> Any:
    def apply(self: Proxy, value: Any) -> Proxy:
        self._sk_share._sk_write((IOP, self._sk_path, symbol, encode(value)))
        return self

    return apply


class Proxy:
    """An object held by a Share's coordinator, seen from another process.

    Everything done to a proxy runs on the one real object::

        share.items = [1, 2, 3]
        items = share.items          # a Proxy: the list is mutable
        items.append(4)              # appends in the coordinator
        len(items), 4 in items       # (4, True)
        list(items)                  # [1, 2, 3, 4], a snapshot
        share.timer.mean             # reads the live value

    ``isinstance(proxy, list)`` is False: a proxy is not a copy. ``list(proxy)``,
    ``dict(proxy.items())`` or ``copy.copy()`` on the results give local copies.
    """

    __slots__ = ("__weakref__", "_sk_path", "_sk_share")

    def __init__(self, share: Share, path: tuple[Any, ...]) -> None:
        object.__setattr__(self, "_sk_share", share)
        object.__setattr__(self, "_sk_path", path)

    # ------------------------------------------------------------------ attributes

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_sk_"):
            raise AttributeError(name)
        share = self._sk_share
        path = self._sk_path + ((ATTR, name),)
        decision = attribute_use(sys._getframe(1), name)
        if decision == VALUE:
            return share._sk_value(share._sk_call((GETATTR, self._sk_path, name)), path)
        if decision == METHOD:
            return RemoteMethod(share, self._sk_path, name)
        if decision == LAZY:
            return Proxy(share, path)
        return Augmented(share, path)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_sk_"):
            raise ShareError(f"{name!r} is reserved for the proxy itself")
        path = self._sk_path + ((ATTR, name),)
        if value is APPLIED or same_target(value, self._sk_share, path):
            return
        refuse_unsafe_update(sys._getframe(1), f"{_path_text(self._sk_path)}.{name}")
        self._sk_share._sk_write((SETATTR, self._sk_path, name, encode(value)))

    def __delattr__(self, name: str) -> None:
        self._sk_share._sk_write((DELATTR, self._sk_path, name))

    # ------------------------------------------------------------------ items

    def __getitem__(self, key: Any) -> Any:
        share = self._sk_share
        encoded = encode(key)
        path = self._sk_path + ((ITEM, encoded),)
        if item_use(sys._getframe(1)) != VALUE:
            return Augmented(share, path)
        return share._sk_value(share._sk_call((GETITEM, self._sk_path, encoded)), path)

    def __setitem__(self, key: Any, value: Any) -> None:
        encoded = encode(key)
        if value is APPLIED:
            return
        if same_target(value, self._sk_share, self._sk_path + ((ITEM, encoded),)):
            return
        refuse_unsafe_update(sys._getframe(1), f"{_path_text(self._sk_path)}[{key!r}]")
        self._sk_share._sk_write((SETITEM, self._sk_path, encoded, encode(value)))

    def __delitem__(self, key: Any) -> None:
        self._sk_share._sk_write((DELITEM, self._sk_path, encode(key)))

    # ------------------------------------------------------------------ calls

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        share = self._sk_share
        request = (CALL, self._sk_path, None, encode_args(args, kwargs))
        return share._sk_value(share._sk_call(request))

    def __iter__(self) -> Any:
        return iter(_snapshot(self))

    def __reversed__(self) -> Any:
        return iter(_reversed(self))

    def __repr__(self) -> str:
        try:
            text = _repr(self)
        except Exception as exc:  # noqa: BLE001 - repr must not fail
            return f"<shared {_path_text(self._sk_path)} ({type(exc).__name__})>"
        return f"<shared {_path_text(self._sk_path)}: {text}>"

    def __dir__(self) -> list[str]:
        return list(_dir(self))

    __hash__ = _special("__hash__")

    # ------------------------------------------------------------------ travel

    def __serialize__(self) -> tuple[Any, ...]:
        return (self._sk_share.__serialize__(), self._sk_path)

    @classmethod
    def __deserialize__(cls, state: tuple[Any, ...]) -> Any:
        return _rebuild_proxy(*state)

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild_proxy, (self._sk_share.__serialize__(), self._sk_path)

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return self


for _name in (
    "__len__", "__contains__", "__bool__", "__str__", "__format__", "__eq__", "__ne__",
    "__lt__", "__le__", "__gt__", "__ge__", "__neg__", "__pos__", "__abs__", "__invert__",
    "__int__", "__float__", "__index__", "__divmod__", "__rdivmod__",
):
    setattr(Proxy, _name, _special(_name))
for _op, _symbol in (
    ("add", "+="), ("sub", "-="), ("mul", "*="), ("matmul", "@="), ("truediv", "/="),
    ("floordiv", "//="), ("mod", "%="), ("pow", "**="), ("lshift", "<<="), ("rshift", ">>="),
    ("and", "&="), ("xor", "^="), ("or", "|="),
):
    setattr(Proxy, f"__{_op}__", _special(f"__{_op}__"))
    setattr(Proxy, f"__r{_op}__", _special(f"__r{_op}__"))
    setattr(Proxy, f"__i{_op}__", _inplace(_symbol))
del _name, _op, _symbol


def _rebuild_proxy(share_state: Any, path: tuple[Any, ...]) -> Any:
    from . import _coordinator
    from ._api import Share

    if _coordinator.serving is not None and share_state["address"] == _coordinator.serving:
        return _coordinator.resolve_here(share_state["address"], path)  # back home: the real object
    return Proxy(Share.__deserialize__(share_state), path)


def _path_text(path: tuple[Any, ...]) -> str:
    from ._coordinator import _path_text as text

    return text(path)
