"""Identity of functions and classes sent by value.

Each one gets a tracker id the first time it is sent. Deserializing in the process
that defined it returns the very object; any other process builds it once and then
hands out that one rebuilt object for every later copy of the same id. A rebuilt
object sent on from there keeps the original's id.
"""

from __future__ import annotations

import builtins
import os
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from ..._forklocks import renew_in_children

__all__ = (
    "KeptIds",
    "by_reference_name",
    "globals_for",
    "globals_id",
    "lookup",
    "mark_rebuilt",
    "needs_state",
    "state_done",
    "tracker_id",
)


def _new_id() -> str:
    """128 random bits, as hex (``uuid.uuid4().hex`` without importing uuid, which
    costs a spawned worker 2 ms)."""
    return os.urandom(16).hex()


_lock = threading.RLock()
renew_in_children(_lock)
_objects: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
T = TypeVar("T")

_MAIN_MODULES = frozenset({"__main__", "__mp_main__"})
_MISSING = object()


class _Entry:
    """What is known about one tracked object: its id, and whether it takes state."""

    __slots__ = ("ref", "tid", "takes_state")

    def __init__(self, ref: weakref.ref[Any], tid: str, takes_state: bool) -> None:
        self.ref = ref
        self.tid = tid
        self.takes_state = takes_state


# Keyed by id(), not by the object: a class's metaclass may define __eq__/__hash__ (two
# classes equal by name would share an id) or make classes unhashable.
_entries: dict[int, _Entry] = {}


def _entry(obj: Any) -> _Entry | None:
    entry = _entries.get(id(obj))
    return entry if entry is not None and entry.ref() is obj else None


def _track(obj: Any, tid: str, takes_state: bool) -> None:
    key = id(obj)

    def forget(ref: weakref.ref[Any]) -> None:
        entry = _entries.get(key)
        if entry is not None and entry.ref is ref:
            del _entries[key]

    _entries[key] = _Entry(weakref.ref(obj, forget), tid, takes_state)


def tracker_id(obj: Any) -> str:
    """The stable id of a function or class sent by value (assigned on first use)."""
    with _lock:
        entry = _entry(obj)
        if entry is not None:
            return entry.tid
        tid = _new_id()
        _track(obj, tid, takes_state=False)
        _objects[tid] = obj
        return tid


def lookup(tid: str) -> Any:
    """The live object for ``tid`` in this process, or ``None``."""
    return _objects.get(tid)


def mark_rebuilt(tid: str, obj: Any) -> None:
    """Record ``obj`` as this process's copy of ``tid``; its state is still to be set."""
    with _lock:
        _objects[tid] = obj
        _track(obj, tid, takes_state=True)


def needs_state(obj: Any) -> bool:
    """True for a copy rebuilt here that still takes the state sent with it.

    Never for this process's originals. A rebuilt function takes the sender's state
    with every copy (its globals, defaults and cells may have changed there); a class
    only with the first, until :func:`state_done`.
    """
    entry = _entry(obj)
    return entry is not None and entry.takes_state


def state_done(obj: Any) -> None:
    """Stop applying state to ``obj``: later copies reuse it as it is."""
    entry = _entry(obj)
    if entry is not None:
        entry.takes_state = False


class KeptIds:
    """Tracker ids for objects that cannot be weakly referenced (dicts, ContextVars).

    Every object given an id here is kept alive for the life of the process, so an
    ``id()`` is never reused and can key the table.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        renew_in_children(self._lock)  # (one per table: a few, for the process's life)
        self._by_address: dict[int, str] = {}
        self._by_tid: dict[str, Any] = {}

    def tracker_id(self, obj: Any) -> str:
        """The id of ``obj`` (assigned on first use)."""
        with self._lock:
            tid = self._by_address.get(id(obj))
            if tid is None:
                tid = _new_id()
                self._keep(tid, obj)
            return tid

    def get_or_make(self, tid: str, make: Callable[[], T]) -> T:
        """The object with id ``tid`` here; ``make()`` builds it the first time."""
        with self._lock:
            obj: T | None = self._by_tid.get(tid)
            if obj is None:
                obj = make()
                self._keep(tid, obj)
            return obj

    def _keep(self, tid: str, obj: Any) -> None:
        self._by_address[id(obj)] = tid
        self._by_tid[tid] = obj


_globals = KeptIds()


def globals_id(namespace: dict[str, Any]) -> str:
    """The stable id of a function's globals dict."""
    return _globals.tracker_id(namespace)


def globals_for(gid: str, module_name: str) -> dict[str, Any]:
    """The globals dict that rebuilt functions with globals id ``gid`` share."""
    return _globals.get_or_make(gid, lambda: {"__name__": module_name, "__builtins__": builtins})


def by_reference_name(obj: Any) -> str | None:
    """``obj.__qualname__`` when another process can import ``obj`` by name, else None."""
    module_name = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str):
        return None
    if module_name in _MAIN_MODULES or "<locals>" in qualname:
        return None
    target: Any = sys.modules.get(module_name)
    if target is None:
        return None
    for part in qualname.split("."):
        target = getattr(target, part, _MISSING)
        if target is _MISSING:
            return None
    return qualname if target is obj else None
