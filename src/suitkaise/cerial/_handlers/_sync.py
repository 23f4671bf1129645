"""The ``threading`` primitives, recreated in the state that makes sense.

- ``Lock``: a new lock, acquired if the original was held.
- ``RLock``: a new lock, always released. Its owner is a thread of the sending
  process, and ownership cannot travel.
- ``Semaphore``/``BoundedSemaphore``: the current value (and the bound).
- ``Event``: set or not. ``Condition``: around a copy of its lock (shared locks stay
  shared). ``Barrier``: parties, action and timeout; broken stays broken.
- Threads waiting on any of these stay behind: the copy has no waiters.
- ``Thread``: a thread cannot travel. It becomes a :class:`ThreadReconnector` that keeps
  name, daemon flag, target, args and kwargs (and a subclass's own attributes);
  ``reconnect()`` returns a new, unstarted thread (the main thread returns the
  receiver's main thread).

Subclasses with attributes of their own keep them; their ``__init__`` is not called.
"""

from __future__ import annotations

import threading
from typing import Any

from .._reconnect._base import ReconnectError, Reconnector
from .._registry import register
from ._instances import fresh

__all__ = ("ThreadReconnector",)

_Lock = type(threading.Lock())
_RLock = type(threading.RLock())


def _extra_state(obj: Any, base_attrs: frozenset[str]) -> dict[str, Any] | None:
    """The attributes a subclass added on top of the primitive's own."""
    extra = {k: v for k, v in getattr(obj, "__dict__", {}).items() if k not in base_attrs}
    return extra or None


def _rebuild_lock(locked: bool) -> Any:
    lock = threading.Lock()
    if locked:
        lock.acquire()
    return lock


@register(_Lock)
def _lock_reduce(lock: Any) -> tuple[Any, ...]:
    return _rebuild_lock, (lock.locked(),)


_PyRLock = threading._RLock  # pure-Python RLock (threading._PyRLock), for where _thread has none
_PY_RLOCK_ATTRS = frozenset(vars(_PyRLock()))


@register(_RLock, subclasses=True)
@register(_PyRLock, subclasses=True)
def _rlock_reduce(lock: Any) -> tuple[Any, ...]:
    # A new, released lock: its owner is a thread of the sending process.
    base = _RLock if isinstance(lock, _RLock) else _PyRLock
    return fresh, (type(lock), base), _extra_state(lock, _PY_RLOCK_ATTRS)


_CONDITION_ATTRS = frozenset(vars(threading.Condition()))
_SEMAPHORE_ATTRS = frozenset(vars(threading.BoundedSemaphore()))
_EVENT_ATTRS = frozenset(vars(threading.Event()))
_BARRIER_ATTRS = frozenset(vars(threading.Barrier(1)))


def _rebuild_condition(cls: type, lock: Any) -> Any:
    return fresh(cls, threading.Condition, lock)


@register(threading.Condition, subclasses=True)
def _condition_reduce(cond: threading.Condition) -> tuple[Any, ...]:
    lock = cond._lock  # type: ignore[attr-defined]
    return _rebuild_condition, (type(cond), lock), _extra_state(cond, _CONDITION_ATTRS)


def _rebuild_semaphore(cls: type, value: int, bound: int | None) -> Any:
    if bound is None:
        return fresh(cls, threading.Semaphore, value)
    sem = fresh(cls, threading.BoundedSemaphore, bound)
    for _ in range(bound - value):
        threading.Semaphore.acquire(sem, blocking=False)
    return sem


@register(threading.Semaphore, subclasses=True)
def _semaphore_reduce(sem: threading.Semaphore) -> tuple[Any, ...]:
    # No public getter for the counter; _value is stable since Python 3.2.
    value = sem._value
    bounded = isinstance(sem, threading.BoundedSemaphore)
    bound = getattr(sem, "_initial_value", None) if bounded else None
    return _rebuild_semaphore, (type(sem), value, bound), _extra_state(sem, _SEMAPHORE_ATTRS)


def _rebuild_event(cls: type, is_set: bool) -> Any:
    event = fresh(cls, threading.Event)
    if is_set:
        threading.Event.set(event)
    return event


@register(threading.Event, subclasses=True)
def _event_reduce(event: threading.Event) -> tuple[Any, ...]:
    return _rebuild_event, (type(event), event.is_set()), _extra_state(event, _EVENT_ATTRS)


def _rebuild_barrier(
    cls: type, parties: int, action: Any, timeout: float | None, broken: bool
) -> Any:
    barrier = fresh(cls, threading.Barrier, parties, action, timeout)
    if broken:
        threading.Barrier.abort(barrier)
    return barrier


@register(threading.Barrier, subclasses=True)
def _barrier_reduce(barrier: threading.Barrier) -> tuple[Any, ...]:
    args = (
        type(barrier),
        barrier.parties,
        barrier._action,  # type: ignore[attr-defined]
        barrier._timeout,  # type: ignore[attr-defined]
        barrier.broken,
    )
    return _rebuild_barrier, args, _extra_state(barrier, _BARRIER_ATTRS)


# -- threads: placeholders -------------------------------------------------------------

_THREAD_ATTRS = frozenset(vars(threading.Thread()))


class ThreadReconnector(Reconnector):
    """Placeholder for a ``threading.Thread``; ``reconnect()`` returns a new unstarted thread.

    The new thread has the same class, name, daemon flag, target, args and kwargs (and
    the subclass's own attributes). Start it yourself. When the target could not be
    serialized, ``note`` says why and ``reconnect()`` raises :class:`ReconnectError`.
    """

    type_key = "threading.Thread"

    def describe(self) -> str:
        return f"name {self.metadata['name']!r}"

    def _connect(self, password: str | None) -> threading.Thread:
        meta = self.metadata
        if meta["main"]:
            return threading.main_thread()
        payload = meta["payload"]
        if payload is None:
            raise ReconnectError(self._failure_message(self.note or "nothing to rebuild"))
        cls, target, args, kwargs, extra = payload
        thread = fresh(
            cls, threading.Thread, None, target, meta["name"], args, kwargs, daemon=meta["daemon"]
        )
        thread.__dict__.update(extra)
        return thread


@register(threading.Thread, subclasses=True)
def _thread_reduce(thread: threading.Thread) -> tuple[Any, ...]:
    from .._engine import serialize

    attrs = vars(thread)
    metadata: dict[str, Any] = {
        "name": thread.name,
        "daemon": thread.daemon,
        "was_alive": thread.is_alive(),
        "main": thread is threading.main_thread(),
        "payload": None,
    }
    note = None
    if not metadata["main"]:
        # A started thread has dropped its target (Thread.run deletes it).
        payload = (
            type(thread),
            attrs.get("_target"),
            attrs.get("_args", ()),
            attrs.get("_kwargs", {}),
            {k: v for k, v in attrs.items() if k not in _THREAD_ATTRS},
        )
        try:
            serialize(payload)
        except Exception as error:
            note = f"its target or attributes cannot be serialized ({error})"
        else:
            metadata["payload"] = payload
    return ThreadReconnector, (metadata,), {"note": note}
