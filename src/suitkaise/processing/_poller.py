"""Waiting for sockets to become readable: ``select.poll()``, or ``select.select()``
where the platform has no poll (Windows)."""

from __future__ import annotations

import select
import socket
from typing import Any

__all__ = ("POLLIN", "new_poller")


class _SelectPoller:
    """``select.poll()`` for sockets where the platform has no poll (Windows)."""

    def __init__(self) -> None:
        self.socks: list[socket.socket] = []

    def register(self, sock: socket.socket, _events: int) -> None:
        self.socks.append(sock)

    def poll(self, timeout_ms: int) -> list[Any]:
        return select.select(self.socks, [], [], timeout_ms / 1000)[0]


if hasattr(select, "poll"):
    #: A new poller: ``register(sock, POLLIN)``, then ``poll(milliseconds)``.
    new_poller: Any = select.poll
    #: The events that make a socket worth reading (data, hang-up, error).
    POLLIN = select.POLLIN | select.POLLHUP | select.POLLERR
else:  # pragma: no cover - Windows
    new_poller, POLLIN = _SelectPoller, 0
