"""Weak references and the weak containers, pointing at the copies of their referents.

A weak reference travels with its referent, and the copy is a weak reference to the
referent's copy. A weak reference never keeps its referent alive, and the copy is no
exception: **if nothing else in the deserialized object holds the referent, the copy
is dead** as soon as ``deserialize`` returns. Send the referent alongside (as the
original program surely holds it somewhere) to keep it, e.g.
``serialize({"node": node, "ref": weakref.ref(node)})``.

- ``weakref.ref`` (and subclasses): live -> a ref to the rebuilt referent; dead -> a
  dead ref. Callbacks do not travel (they belong to the sender's bookkeeping).
- ``weakref.WeakMethod``: the same, for the bound method's object.
- ``weakref.proxy``: a proxy to the rebuilt referent, or a dead proxy.
- ``WeakValueDictionary``, ``WeakKeyDictionary``, ``WeakSet``: their live items, with
  the same weakness (items held by nothing else vanish on arrival).
"""

from __future__ import annotations

import weakref
from typing import Any

from .._registry import register
from ._instances import fresh

__all__ = ()


class _Gone:
    """A throwaway referent, used to make dead references."""

    __slots__ = ("__weakref__",)

    def method(self) -> None:
        """Gives WeakMethod something to point at."""


def _ref_attributes(ref: Any) -> dict[str, Any] | None:
    """What a subclass of ``weakref.ref`` stores on top (``__dict__`` and ``__slots__``)."""
    state = dict(getattr(ref, "__dict__", {}))
    for cls in type(ref).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and hasattr(ref, name):
                state[name] = getattr(ref, name)
    return state or None


def _set_attributes(obj: Any, state: dict[str, Any]) -> Any:
    for name, value in state.items():
        setattr(obj, name, value)
    return obj


def _rebuild_ref(cls: type, referent: Any) -> Any:
    return weakref.ref.__new__(cls, referent)


def _rebuild_dead_ref(cls: type) -> Any:
    return weakref.ref.__new__(cls, _Gone())  # the temporary dies at once: a dead ref


@register(weakref.ref, subclasses=True)
def _ref_reduce(ref: Any) -> tuple[Any, ...]:
    referent = ref()
    state = _ref_attributes(ref)
    if referent is None:
        return _rebuild_dead_ref, (type(ref),), state, None, None, _set_attributes
    return _rebuild_ref, (type(ref), referent), state, None, None, _set_attributes


def _rebuild_dead_weakmethod() -> weakref.WeakMethod[Any]:
    return weakref.WeakMethod(_Gone().method)


@register(weakref.WeakMethod)
def _weakmethod_reduce(ref: weakref.WeakMethod[Any]) -> tuple[Any, ...]:
    method = ref()
    if method is None:
        return _rebuild_dead_weakmethod, ()
    return weakref.WeakMethod, (method,)


def _proxy_referent(proxy: Any) -> Any:
    # No API hands out a proxy's referent, but the proxy forwards attribute lookups to
    # it, so a bound method of the referent knows it. Checked against the referent's
    # own list of weak references.
    for candidate in (
        lambda: proxy.__getattribute__.__self__,
        lambda: proxy.__repr__.__self__,
        lambda: proxy.__mro__[0],  # the referent is a class
    ):
        try:
            referent = candidate()
        except (AttributeError, IndexError, TypeError):
            continue
        try:
            if any(ref is proxy for ref in weakref.getweakrefs(referent)):
                return referent
        except TypeError:
            continue
    raise TypeError(
        f"cannot find what the weakref.proxy of type {proxy.__class__.__name__} points at"
    )


def _rebuild_dead_proxy() -> Any:
    return weakref.proxy(_Gone())


def _proxy_reduce(proxy: Any) -> tuple[Any, ...]:
    try:
        referent = _proxy_referent(proxy)
    except ReferenceError:
        return _rebuild_dead_proxy, ()
    return weakref.proxy, (referent,)


for _proxy_type in weakref.ProxyTypes:
    register(_proxy_type, _proxy_reduce)


# -- weak containers ---------------------------------------------------------------------


def _base_attributes(*containers: Any) -> frozenset[str]:
    return frozenset(name for c in containers for name in vars(c))


_CONTAINER_ATTRS = _base_attributes(
    weakref.WeakValueDictionary(), weakref.WeakKeyDictionary(), weakref.WeakSet()
)


def _fill_container(container: Any, state: tuple[type[Any], list[Any], dict[str, Any]]) -> Any:
    base, items, extra = state
    base.update(container, items)
    container.__dict__.update(extra)
    return container


def _container_reduce(base: type, container: Any, items: list[Any]) -> tuple[Any, ...]:
    extra = {k: v for k, v in vars(container).items() if k not in _CONTAINER_ATTRS}
    state = (base, items, extra)
    return fresh, (type(container), base), state, None, None, _fill_container


@register(weakref.WeakValueDictionary, subclasses=True)
def _weak_value_dict_reduce(d: weakref.WeakValueDictionary[Any, Any]) -> tuple[Any, ...]:
    return _container_reduce(weakref.WeakValueDictionary, d, list(d.items()))


@register(weakref.WeakKeyDictionary, subclasses=True)
def _weak_key_dict_reduce(d: weakref.WeakKeyDictionary[Any, Any]) -> tuple[Any, ...]:
    return _container_reduce(weakref.WeakKeyDictionary, d, list(d.items()))


@register(weakref.WeakSet, subclasses=True)
def _weak_set_reduce(s: weakref.WeakSet[Any]) -> tuple[Any, ...]:
    return _container_reduce(weakref.WeakSet, s, list(s))
