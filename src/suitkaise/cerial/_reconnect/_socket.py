"""``socket.socket``: travels as its family, type, protocol and addresses.

``reconnect()`` makes a new socket of the same kind and then, as the original was:
listening -> bind to the same local address and listen again; connected -> connect to
the same peer (from a fresh local port); bound -> bind again; otherwise left unbound.
A closed socket comes back closed. TLS sockets (``ssl.SSLSocket``) cannot travel:
wrap the reconnected socket in your ``SSLContext`` again.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

from .._registry import register
from ._base import Reconnector

__all__ = ("SocketReconnector",)


def _address(get: Any) -> Any:
    try:
        address = get()
    except OSError:
        return None
    if address in ("", b"", None) or (isinstance(address, tuple) and address[1:2] == (0,)):
        return None  # unbound: no path, or port 0
    return address


class SocketReconnector(Reconnector):
    """Placeholder for a ``socket.socket``; ``reconnect()`` returns a new live socket."""

    type_key = "socket.socket"

    def describe(self) -> str:
        meta = self.metadata
        if meta.get("peer") is not None:
            return f"peer {_format(meta['peer'])}"
        if meta.get("local") is not None:
            state = "listening on" if meta.get("listening") else "bound to"
            return f"{state} {_format(meta['local'])}"
        return "unbound" if not meta.get("closed") else "closed"

    def _connect(self, password: str | None) -> socket.socket:
        meta = self.metadata
        sock = socket.socket(meta["family"], meta["type"], meta["proto"])
        if meta["closed"]:
            sock.close()
            return sock
        try:
            sock.settimeout(meta["timeout"])
            if meta["listening"]:
                if sys.platform != "win32":  # on Windows SO_REUSEADDR allows port stealing
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(meta["local"])
                sock.listen()
            elif meta["peer"] is not None:
                sock.connect(meta["peer"])
            elif meta["local"] is not None:
                sock.bind(meta["local"])
        except BaseException:
            sock.close()
            raise
        return sock


def _format(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return repr(address)


def _is_listening(sock: socket.socket) -> bool:
    option = getattr(socket, "SO_ACCEPTCONN", None)
    if option is None or sock.type != socket.SOCK_STREAM:
        return False
    try:
        return bool(sock.getsockopt(socket.SOL_SOCKET, option))
    except OSError:
        return False


@register(socket.socket, subclasses=True)
def _socket_reduce(sock: socket.socket) -> tuple[Any, ...]:
    ssl = sys.modules.get("ssl")
    if ssl is not None and isinstance(sock, ssl.SSLSocket):
        raise TypeError(
            "an ssl.SSLSocket cannot travel (its TLS session belongs to this process): "
            "send the address and wrap a new socket with your SSLContext on arrival"
        )
    closed = sock.fileno() == -1
    metadata = {
        "family": int(sock.family),
        "type": int(sock.type),
        "proto": sock.proto,
        "timeout": sock.gettimeout(),
        "peer": None if closed else _address(sock.getpeername),
        "local": None if closed else _address(sock.getsockname),
        "listening": not closed and _is_listening(sock),
        "closed": closed,
    }
    return SocketReconnector, (metadata,)
