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

import os
import socket
import struct
import sys
import threading
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
    "close_in_children",
    "forget",
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


# ------------------------------------------------------- sockets and forked children

# socket -> the thread whose own fork keeps it (None: closed in every forked child).
_closing: dict[socket.socket, int | None] = {}


def close_in_children(*socks: socket.socket, keep_for: int | None = None) -> None:
    """Close *socks* in every child forked from now on (but in the children forked by
    thread *keep_for*: a worker's own end, while the dispatcher starts that worker).

    A worker sees EOF on its socket and lifeline only if no other process holds the
    parent's end; the parent sees EOF from a dead worker only if no other process
    holds the worker's end. Forked children (other workers, Skprocess children, a
    user's own ``os.fork()``) would otherwise keep copies of both.
    """
    for sock in socks:
        _closing[sock] = keep_for


def forget(*socks: socket.socket) -> None:
    """Stop tracking *socks* (they are closed, or handed over)."""
    for sock in socks:
        _closing.pop(sock, None)


def _after_fork_in_child() -> None:
    # A freshly forked child has one thread, the one that forked: no lock is needed.
    me = threading.get_ident()
    for sock, keeper in list(_closing.items()):
        if keeper != me:
            try:
                sock.close()
            except OSError:
                pass
    _closing.clear()


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)
