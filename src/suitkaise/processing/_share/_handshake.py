"""The authentication of a new connection, with a time limit on both ends.

``multiprocessing.connection`` runs its HMAC challenge (``Listener.accept()``,
``Client()``) with no time limit: a peer that connects and then says nothing holds it
forever. Here each end runs the same challenge on a plain socket whose reads and
writes give up after a while: the coordinator waits :data:`HANDSHAKE_TIMEOUT` seconds
for a new peer (which has nothing else to do than answer), on a short-lived thread
per connection so that one stalled peer delays nobody else; a client waits
:data:`CONNECT_TIMEOUT` seconds for the coordinator (which may be busy).
"""

from __future__ import annotations

import os
import socket
import struct
import sys
from multiprocessing.connection import Connection, answer_challenge, deliver_challenge
from typing import Any

__all__ = (
    "CONNECT_TIMEOUT", "HANDSHAKE_TIMEOUT", "HandshakeTimeout", "admit", "connect",
    "set_io_timeout",
)

#: Seconds the coordinator waits for each step of a new peer's handshake.
HANDSHAKE_TIMEOUT = 5.0
#: Seconds a client waits for each step of connecting to the coordinator.
CONNECT_TIMEOUT = 30.0

_HAS_IO_TIMEOUT = sys.platform != "win32" and hasattr(socket, "SO_RCVTIMEO")


class HandshakeTimeout(OSError):
    """The other end did not take part in the handshake in time."""


def set_io_timeout(sock: socket.socket, seconds: float) -> None:
    """Have blocking reads and writes on *sock* (and every copy of its descriptor) give
    up after *seconds* with ``BlockingIOError``; 0 waits forever."""
    if not _HAS_IO_TIMEOUT:  # pragma: no cover - Windows: the per-connection thread waits
        return
    value = struct.pack("@ll", int(seconds), int(seconds % 1 * 1e6))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)


def _challenge(sock: socket.socket, authkey: bytes, server: bool, timeout: float) -> None:
    """Run multiprocessing's mutual HMAC challenge over *sock* (blocking mode), each
    read or write giving up after *timeout* seconds."""
    set_io_timeout(sock, timeout)
    conn = Connection(os.dup(sock.fileno()))
    try:
        if server:
            deliver_challenge(conn, authkey)
            answer_challenge(conn, authkey)
        else:
            answer_challenge(conn, authkey)
            deliver_challenge(conn, authkey)
    except BlockingIOError as exc:  # SO_RCVTIMEO / SO_SNDTIMEO ran out
        raise HandshakeTimeout(
            f"no answer to the Share's authentication within {timeout:g} s"
        ) from exc
    finally:
        conn.close()
    set_io_timeout(sock, 0)


def admit(sock: socket.socket, authkey: bytes) -> bool:
    """Coordinator side: authenticate the new connection *sock*; close it and return
    False when it fails (wrong secret, garbage, silence, a peer that left)."""
    try:
        sock.setblocking(True)
        _challenge(sock, authkey, server=True, timeout=HANDSHAKE_TIMEOUT)
    except Exception:  # noqa: BLE001 - AuthenticationError, a timeout, garbage (AssertionError)
        sock.close()
        return False
    return True


def connect(address: Any, authkey: bytes) -> socket.socket:
    """Client side: an authenticated blocking socket to the coordinator at *address*
    (an AF_UNIX path, or ``(host, port)``).

    Raises ``OSError`` (``FileNotFoundError``, ``ConnectionRefusedError``...) when
    nothing listens there, :class:`HandshakeTimeout` when the coordinator does not
    answer in time, ``EOFError`` when it closed the connection, and
    ``AuthenticationError`` when it refuses the secret.
    """
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(CONNECT_TIMEOUT)
        try:
            sock.connect(address)
        except TimeoutError as exc:
            raise HandshakeTimeout(
                f"the Share's coordinator did not accept the connection within "
                f"{CONNECT_TIMEOUT:g} s"
            ) from exc
        sock.settimeout(None)  # blocking, whatever socket.setdefaulttimeout() says
        _challenge(sock, authkey, server=False, timeout=CONNECT_TIMEOUT)
    except BaseException:
        sock.close()
        raise
    return sock
