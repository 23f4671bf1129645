"""One connection from a (process, thread) to a Share's coordinator.

::

    Share / proxy ---write(msg)---> poll(0): notice/bye/EOF waiting? --> sendall(frame)
                 ---call(msg)----> sendall(frame) --> poll(1 s) --> recv --> frames:
                                                       |  NOTICE -> kept, raised after
                                                       |  BYE    -> ShareClosedError
                                                       |  EOF    -> CoordinatorDiedError
                                                       |  reply  -> returned
                                                       +- timeout: is the coordinator
                                                          alive? (then keep waiting)

Writes are pipelined: ``write()`` returns once the frame is in the coordinator's
socket buffer, which is enough for every guarantee of the Share (see
``_coordinator``), and a write that fails there comes back as a NOTICE that the next
request of this connection raises. ``call()`` waits for its reply.

A connection found closed *before* a request is sent (the owner called ``exit()`` and
``start()`` again, and every write of this connection was applied) raises
:class:`Stale`: the Share opens a new connection and sends the request there.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
from collections.abc import Callable
from multiprocessing import AuthenticationError
from typing import Any

from ... import cerial
from .._errors import RemoteTraceback
from .._forkclose import close_in_children, forget
from .._poller import POLLIN, new_poller
from ._errors import CoordinatorDiedError, ShareClosedError, ShareError
from ._handshake import HandshakeTimeout, connect
from ._protocol import ACK, BYE, ERROR, HELLO, NOTICE, frame, unframe

__all__ = ("LIVENESS_INTERVAL", "Link", "Stale", "fork_generation", "raise_remote")

#: Seconds a caller waits for a reply before it checks that the coordinator lives.
LIVENESS_INTERVAL = 1.0

_generation = 0
# struct timeval for SO_RCVTIMEO (Linux; elsewhere the wait is a poll() before recv()).
_RECV_TIMEOUT = (
    struct.pack("@ll", int(LIVENESS_INTERVAL), int(LIVENESS_INTERVAL % 1 * 1e6))
    if sys.platform.startswith("linux") else b""
)


def fork_generation() -> int:
    """A number that changes in every forked child (connections are per process)."""
    return _generation


def _after_fork() -> None:
    global _generation
    _generation += 1


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_after_fork)


class Stale(Exception):
    """Internal: the connection was closed cleanly before the request was sent."""


def raise_remote(data: bytes, note: str | None = None) -> None:
    """Raise the error in cerial *data* (``(exc, traceback text)``) from the coordinator."""
    exc, text = cerial.deserialize(data)
    if not isinstance(exc, BaseException):  # pragma: no cover - protocol misuse
        raise ShareError(f"the Share's coordinator sent a bad error: {exc!r}")
    if note:
        exc.add_note(note)
    raise exc from RemoteTraceback(text)


class Link:
    """A connection to the coordinator, used by one thread of one process."""

    __slots__ = ("alive", "buffer", "coordinator_pid", "generation", "poller", "sent", "sock")

    def __init__(self, address: str, authkey: bytes, alive: Callable[[int], bool]) -> None:
        self.sock: socket.socket | None = None
        self.alive = alive
        self.generation = _generation
        self.buffer = bytearray()
        self.sent = 0  # writes sent on this connection
        self.sock = _connect(address, authkey)
        # A forked child must not keep this connection open (it would hide our end
        # from the coordinator); the child opens its own.
        close_in_children(self.sock)
        self.poller = new_poller()
        self.poller.register(self.sock, POLLIN)
        if _RECV_TIMEOUT:
            # A blocking recv() that gives up after LIVENESS_INTERVAL: waiting for a reply
            # costs one system call, not a poll() and a recv().
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _RECV_TIMEOUT)
        try:
            self.coordinator_pid = self.call((HELLO,))[1]
        except Stale as exc:
            self.close()
            raise ShareClosedError(
                "the Share is not running: its owner called exit() as this process connected"
            ) from exc
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            forget(sock)
            sock.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # ------------------------------------------------------------------ requests

    def write(self, message: tuple[Any, ...]) -> None:
        """Send a write; raise what an earlier write of this connection raised."""
        sock = self.sock
        if sock is None:
            raise Stale()
        if self.poller.poll(0):
            self._take_waiting()
        self._send(sock, frame(message))
        self.sent += 1

    def call(self, message: tuple[Any, ...]) -> Any:
        """Send a call and return its reply: ``(OK, encoded value)`` or ``(PROXY,)``;
        an ERROR reply is raised."""
        sock = self.sock
        if sock is None:
            raise Stale()
        # No look for waiting frames first (one system call less per read): whatever
        # came unasked arrives before the reply, and is dealt with in _reply().
        self._send(sock, frame(message))
        notices: list[tuple[bytes, str]] = []
        try:
            reply = self._reply(notices)
        except Stale:
            raise
        except BaseException:
            # Interrupted (Ctrl-C) or cut off: the reply may still come and would be
            # taken for the next request's, so this connection is done with.
            self.close()
            raise
        if notices:
            _raise_notice(*notices[0], ran=True)
        if reply[0] == ERROR:
            raise_remote(reply[1])
        return reply

    def _send(self, sock: socket.socket, data: bytes) -> None:
        try:
            sock.sendall(data)
        except OSError as exc:
            # The coordinator may have closed this connection after a clean exit():
            # its goodbye is waiting to be read.
            if self.poller.poll(0):
                try:
                    self._take_waiting()
                except CoordinatorDiedError:
                    pass
            self._lost(exc)
        except BaseException:
            self.close()  # a frame cut in the middle: the stream is unusable
            raise

    def _reply(self, notices: list[tuple[bytes, str]]) -> tuple[Any, ...]:
        while True:
            for reply in unframe(self.buffer):
                kind = reply[0]
                if kind == NOTICE:
                    notices.append((reply[1], reply[2]))
                    continue
                if kind == BYE:
                    # The coordinator stopped before it read this call (it answers every
                    # call it reads before ending), so the call may be sent again.
                    self.close()
                    if notices:
                        _raise_notice(*notices[0], ran=False)
                    if reply[2] == "exit" and reply[1] >= self.sent:
                        raise Stale()
                    raise _closed(reply, self.sent, answered=False)
                self.buffer.clear()  # nothing follows a reply: there is one call at a time
                return reply
            self._receive(waiting=True)

    # ------------------------------------------------------------------ helpers

    def _take_waiting(self) -> None:
        """Before a request: read what came unasked (notices, BYE, EOF).

        Interrupted (Ctrl-C), the bytes or frames read and not yet dealt with may hold
        the notice of an earlier write's error: this connection is done with then,
        as in :meth:`call`."""
        try:
            self._take_waiting_frames()
        except Exception:
            raise
        except BaseException:
            self.close()
            raise

    def _take_waiting_frames(self) -> None:
        """(:meth:`_take_waiting`, uninterrupted.)"""
        self._receive(waiting=False)
        notice = None
        read = 0
        for reply in unframe(self.buffer):
            kind = reply[0]
            if kind == NOTICE:
                read += 1
                notice = notice or reply
            elif kind == BYE:
                self.close()
                if notice is not None:
                    _raise_notice(notice[1], notice[2], ran=False)
                if reply[1] < self.sent or reply[2] == "crash":
                    raise _closed(reply, self.sent, answered=True)
                raise Stale()
        if notice is not None:
            try:  # so that the coordinator does not report them as never read
                self.sock.sendall(frame((ACK, read)))  # type: ignore[union-attr]
            except OSError:
                pass
            _raise_notice(notice[1], notice[2], ran=False)

    def _receive(self, waiting: bool) -> None:
        """Read what the socket holds; with *waiting*, wait until it holds something
        (checking every LIVENESS_INTERVAL that the coordinator lives); without, it was
        found readable."""
        sock = self.sock
        if sock is None:
            raise Stale()
        while True:
            if (waiting and not _RECV_TIMEOUT
                    and not self.poller.poll(int(LIVENESS_INTERVAL * 1000))):
                self._check_alive()
                continue
            try:
                data = sock.recv(1 << 18)
                break
            except InterruptedError:
                continue
            except BlockingIOError:  # SO_RCVTIMEO ran out: nothing for a while
                self._check_alive()
            except OSError as exc:
                self._lost(exc)
        if not data:
            self.close()
            raise CoordinatorDiedError(
                "the Share's coordinator ended without saying goodbye (it was killed or "
                "crashed); the last request may or may not have been applied"
            )
        self.buffer += data

    def _check_alive(self) -> None:
        if not self.alive(getattr(self, "coordinator_pid", 0)):
            self.close()
            raise CoordinatorDiedError(
                "the Share's coordinator process has died; this request was not answered"
            )

    def _lost(self, exc: BaseException) -> None:
        self.close()
        raise CoordinatorDiedError(
            f"lost the connection to the Share's coordinator ({type(exc).__name__}: {exc})"
        ) from exc


def _connect(address: Any, authkey: bytes) -> socket.socket:
    """An authenticated socket to the coordinator; the errors say why there is none."""
    try:
        return connect(address, authkey)
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise ShareClosedError(
            "the Share is not running: its owner called exit() (and not start() again) "
            "or has ended, or its coordinator was killed"
        ) from exc
    except HandshakeTimeout as exc:
        raise ShareError(f"could not connect to the Share's coordinator: {exc}") from exc
    except AuthenticationError as exc:
        raise ShareError(f"the Share's coordinator refused this connection: {exc}") from exc
    except (EOFError, OSError) as exc:
        raise ShareClosedError(f"could not connect to the Share's coordinator: {exc}") from exc


_WHY = {
    "exit": "its owner called exit()",
    "owner": "the process that created it has ended, or let go of it",
    "crash": "its coordinator crashed",
}


def _bye_text(reply: tuple[Any, ...], sent: int, answered: bool) -> str:
    _, applied, reason = reply
    why = _WHY.get(reason, _WHY["crash"])
    lost = sent - applied
    text = f"the Share stopped ({why})"
    if not answered:
        text += " before this request was answered"
    if lost > 0:
        text += (f"; the last {lost} write(s) from this thread arrived after the end"
                 " and were not applied")
    return text


def _closed(reply: tuple[Any, ...], sent: int, answered: bool) -> ShareClosedError:
    """The error for a BYE: a crash is a :class:`CoordinatorDiedError`."""
    text = _bye_text(reply, sent, answered)
    return CoordinatorDiedError(text) if reply[2] == "crash" else ShareClosedError(text)


def _raise_notice(data: bytes, what: str, ran: bool) -> None:
    outcome = "was run" if ran else "was not run"
    raise_remote(
        data,
        note=f"raised in the Share's coordinator by an earlier write from this thread "
             f"({what}); the statement that got this error {outcome}",
    )
