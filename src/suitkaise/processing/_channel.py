"""Sending without blocking: the write side of ``tell()``.

::

    tell(obj) --cerial.serialize--> pending deque --[feeder thread]--> pipe --> other side

The caller serializes (so a serialization error surfaces in ``tell()`` itself) and
queues the bytes; a feeder thread writes them in order. The feeder lives only while
there is something to write, so a process that never tells keeps no extra thread,
and a burst of tells costs one thread start. A pipe whose reader is gone drops what
is still queued (the other process has ended; nothing could read it any more).
"""

from __future__ import annotations

import threading
from collections import deque
from multiprocessing.connection import Connection
from typing import Any

from .. import cerial
from ._context import mark_fork_safe

__all__ = ("Sender",)


class Sender:
    """Writes serialized messages to one connection, in order, never blocking the caller."""

    def __init__(self, conn: Connection, name: str) -> None:
        self._conn = conn
        self._name = name
        self._pending: deque[bytes] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._feeding = False
        self._broken = False
        self._close_conn = False

    def send(self, obj: Any) -> None:
        data = cerial.serialize(obj)
        with self._cond:
            if self._broken:
                return
            self._pending.append(data)
            if not self._feeding:
                self._feeding = True
                thread = threading.Thread(target=self._feed, name=f"suitkaise-tell:{self._name}", daemon=True)
                mark_fork_safe(thread).start()

    def _feed(self) -> None:
        while True:
            with self._cond:
                if not self._pending or self._broken:
                    self._feeding = False
                    if self._close_conn:
                        self._conn.close()
                    self._cond.notify_all()
                    return
                data = self._pending.popleft()
            try:
                self._conn.send_bytes(data)
            except (OSError, ValueError):  # reader gone, or connection closed here
                with self._cond:
                    self._broken = True
                    self._pending.clear()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued is written; False if *timeout* passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._feeding, timeout)

    def close(self, *, close_conn: bool = False) -> None:
        """Drop what is still queued; the feeder stops after its current write.

        With *close_conn*, also close the connection, but only once no write is in
        progress: closing under a running write could let it hit a reused descriptor.
        """
        with self._cond:
            self._broken = True
            self._pending.clear()
            if close_conn:
                if self._feeding:
                    self._close_conn = True
                else:
                    self._conn.close()
