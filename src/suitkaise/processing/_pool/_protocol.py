"""The wire format between the parent and one worker: fixed headers over a socket.

Each worker has its own ``socket.socketpair()`` (a duplex, stream socket)::

    parent --TASK--> worker     TASK_HEAD | fn bytes (first use only) | args (cerial)
    parent --QUIT--> worker     TASK_HEAD with kind QUIT
    worker --READY-> parent     REPLY_HEAD (count = pid)
    worker --DONE--> parent     REPLY_HEAD | n_raw x u64 | meta | raw buffers
    worker --FAILED> parent     REPLY_HEAD | meta = cerial((results before, error, tb))

Bodies are read with ``recv(n, MSG_WAITALL)``, which allocates the ``bytes`` object
once and lets the kernel copy straight into it: a large ``bytes`` result ("raw", sent
beside the cerial meta with ``sendmsg``) reaches the caller with one copy on each side
and no pickling at all. Everything else travels as cerial bytes.
"""

from __future__ import annotations

import socket
import struct
import sys
from typing import Any

__all__ = (
    "DONE",
    "FAILED",
    "FLAG_ALL_RAW",
    "FLAG_MIXED_RAW",
    "FLAG_SKPROCESS",
    "FLAG_STAR",
    "FLAG_TRACK",
    "QUIT",
    "READY",
    "RAW_MIN",
    "REPLY_HEAD",
    "TASK",
    "TASK_HEAD",
    "recv_exact",
    "send_all",
    "tune",
)

# Parent -> worker: kind, flags, fn id, chunk id, index of the first task, fn length,
# args length.
TASK_HEAD = struct.Struct("<BBIQQIQ")
# Worker -> parent: kind, flags, count, chunk id, seconds spent, meta length, n raw.
REPLY_HEAD = struct.Struct("<BBIQdQI")

TASK, QUIT = 1, 2
READY, DONE, FAILED = 1, 2, 3

FLAG_STAR = 1  # unpack tuple arguments
FLAG_SKPROCESS = 2  # the callable is an Skprocess class
FLAG_TRACK = 4  # publish the index of the running task (precise crash reports)
FLAG_ALL_RAW = 1  # reply: every result is a raw bytes buffer, meta is empty
FLAG_MIXED_RAW = 2  # reply: meta is (results with None holes, hole positions)

#: A ``bytes`` result at least this large travels raw, outside the cerial meta.
RAW_MIN = 64 * 1024
_BUFFER = 4 * 1024 * 1024
_WAITALL = getattr(socket, "MSG_WAITALL", 0)


def tune(sock: socket.socket) -> None:
    """Large socket buffers: fewer wake-ups per megabyte moved (the kernel caps them)."""
    for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, _BUFFER)
        except OSError:
            pass


def recv_exact(sock: socket.socket, size: int) -> bytes | None:
    """Read exactly *size* bytes; ``None`` at end of stream (the other side is gone)."""
    if size == 0:
        return b""
    data = sock.recv(size, _WAITALL)
    if len(data) == size:
        return data
    if not data:
        return None
    # A signal or a platform without MSG_WAITALL cut the read short.
    parts = bytearray(data)
    while len(parts) < size:
        more = sock.recv(size - len(parts))
        if not more:
            return None
        parts += more
    return bytes(parts)


def send_all(sock: socket.socket, buffers: list[Any]) -> None:
    """Blocking gather-write of every buffer (no joining copy)."""
    if not hasattr(sock, "sendmsg"):  # Windows
        for buf in buffers:
            sock.sendall(buf)
        return
    views = [memoryview(b).cast("B") for b in buffers if len(b)]
    while views:
        sent = sock.sendmsg(views[:512])
        while sent:
            size = len(views[0])
            if sent >= size:
                sent -= size
                views.pop(0)
            else:
                views[0] = views[0][sent:]
                sent = 0


if sys.platform == "win32":  # pragma: no cover - no MSG_DONTWAIT there

    def send_some(sock: socket.socket, data: memoryview) -> int:
        """Send what fits without blocking; return the number of bytes sent."""
        sock.setblocking(False)
        try:
            return sock.send(data)
        except BlockingIOError:
            return 0
        finally:
            sock.setblocking(True)

else:

    def send_some(sock: socket.socket, data: memoryview) -> int:
        """Send what fits without blocking; return the number of bytes sent."""
        try:
            return sock.send(data, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return 0
