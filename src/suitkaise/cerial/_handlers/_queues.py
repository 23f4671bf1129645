"""``queue`` queues with their items.

``Queue``, ``LifoQueue`` and ``PriorityQueue`` (and subclasses) travel with ``maxsize``
and a snapshot of their items, taken under the queue's own mutex, so the original is
not drained and ``get()`` on the copy returns the items in the same order. The copy's
``unfinished_tasks`` is the number of items it holds: tasks that a consumer of the
original took but has not marked done belong to the original, and counting them would
make ``join()`` on the copy wait forever. Threads blocked on the original stay behind.

``SimpleQueue`` has no way to look at its items, so they are taken out and put back in
the same order. That is atomic for the queue's own users only when no other thread
uses it while it is serialized.
"""

from __future__ import annotations

import copy
import queue
from typing import Any

from .. import _session
from .._registry import register
from ._instances import fresh

__all__ = ()

_QUEUE_ATTRS = frozenset(vars(queue.Queue())) | frozenset(vars(queue.PriorityQueue()))


def _set_queue_state(q: Any, state: tuple[Any, dict[str, Any]]) -> Any:
    items, extra = state
    with q.mutex:
        q.queue = items
        q.unfinished_tasks = len(items)
    q.__dict__.update(extra)
    return q


@register(queue.Queue, subclasses=True)
def _queue_reduce(q: queue.Queue[Any]) -> tuple[Any, ...]:
    with q.mutex:
        items = copy.copy(q.queue)  # a deque stays a deque (with its maxlen), a heap a heap
    extra = {k: v for k, v in vars(q).items() if k not in _QUEUE_ATTRS}
    # Queue.__init__ calls the subclass's _init(), which makes q.queue.
    args = (type(q), queue.Queue, q.maxsize)
    return fresh, args, (items, extra), None, None, _set_queue_state


def _rebuild_simple_queue(cls: type) -> Any:
    return cls()


def _fill_simple_queue(q: Any, items: list[Any]) -> Any:
    for item in items:
        q.put(item)
    return q


def _snapshot_simple_queue(q: queue.SimpleQueue[Any]) -> list[Any]:
    items = []
    while True:
        try:
            items.append(q.get_nowait())
        except queue.Empty:
            break
    for item in items:
        q.put(item)
    return items


@register(queue.SimpleQueue)
def _simple_queue_reduce(q: queue.SimpleQueue[Any]) -> tuple[Any, ...]:
    # Both pickling passes of one serialize() must see the same snapshot.
    items = _session.once(q, lambda: _snapshot_simple_queue(q))
    return _rebuild_simple_queue, (type(q),), items, None, None, _fill_simple_queue


if hasattr(queue, "_PySimpleQueue"):
    register(queue._PySimpleQueue, _simple_queue_reduce)
