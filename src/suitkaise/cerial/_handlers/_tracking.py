"""Identity of functions and classes sent by value.

Each one gets a tracker id the first time it is sent. Deserializing in the process
that defined it returns the very object; any other process builds it once and then
hands out that one rebuilt object for every later copy of the same id.
"""

from __future__ import annotations

import builtins
import sys
import threading
import uuid
import weakref
from typing import Any

__all__ = (
    "by_reference_name",
    "globals_for",
    "globals_id",
    "lookup",
    "mark_rebuilt",
    "needs_state",
    "state_done",
    "tracker_id",
)

_lock = threading.RLock()
_objects: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_ids: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_rebuilt: weakref.WeakSet[Any] = weakref.WeakSet()
_globals_by_id: dict[str, dict[str, Any]] = {}
_globals_ids: dict[int, tuple[str, dict[str, Any]]] = {}

_MAIN_MODULES = frozenset({"__main__", "__mp_main__"})
_MISSING = object()


def tracker_id(obj: Any) -> str:
    """The stable id of a function or class sent by value (assigned on first use)."""
    with _lock:
        found = _ids.get(obj)
        if found is None:
            found = uuid.uuid4().hex
            _ids[obj] = found
            _objects[found] = obj
        return found


def lookup(tid: str) -> Any:
    """The live object for ``tid`` in this process, or ``None``."""
    return _objects.get(tid)


def mark_rebuilt(tid: str, obj: Any) -> None:
    """Record ``obj`` as this process's copy of ``tid``; its state is still to be set."""
    with _lock:
        _objects[tid] = obj
        _ids[obj] = tid
        _rebuilt.add(obj)


def needs_state(obj: Any) -> bool:
    """True for objects rebuilt here (not the originals of this process)."""
    return obj in _rebuilt


def state_done(obj: Any) -> None:
    """Stop applying state to ``obj``: later copies reuse it as it is."""
    _rebuilt.discard(obj)


def globals_id(namespace: dict[str, Any]) -> str:
    """The stable id of a function's globals dict."""
    with _lock:
        entry = _globals_ids.get(id(namespace))
        if entry is None or entry[1] is not namespace:
            entry = (uuid.uuid4().hex, namespace)
            _globals_ids[id(namespace)] = entry
            _globals_by_id[entry[0]] = namespace
        return entry[0]


def globals_for(gid: str, module_name: str) -> dict[str, Any]:
    """The globals dict that rebuilt functions with globals id ``gid`` share."""
    with _lock:
        namespace = _globals_by_id.get(gid)
        if namespace is None:
            namespace = {"__name__": module_name, "__builtins__": builtins}
            _globals_by_id[gid] = namespace
        return namespace


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
