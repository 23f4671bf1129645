"""The coordinator: the one process that owns a Share's objects.

::

    owner process                           coordinator process (serve())
    -------------                           -----------------------------
    lifeline end (never written) ---------> lifeline thread: EOF => the owner is
                                  <-------- gone => flag + wake socket
                                            ("ready", address) once it listens

    client (one per process x thread)       acceptor thread
      connect(address, authkey) ----------> Listener.accept(): the raw socket
                                            | one short-lived thread per connection:
                                            v HMAC challenge, bounded (_handshake)
                                            incoming deque + wake socket
                                            |
      frames (write / call) --------------> main thread: select() over the wake
      <----------- reply / notice / bye ---   socket and every client socket;
                                              applies requests one at a time
                                              to  {name: object}

One thread applies every request, so there is one order and no lock. A round of the
main loop:

1. wait until some socket is readable, then read everything each readable socket
   holds (a level-triggered select reports every socket that holds data, not only
   the first);
2. apply every *write* read in this round (assignments, ``del``, ``x op= v``: they
   get no reply), in arrival order per connection;
3. answer every *call* read in this round (reads, method calls, ``exit``: one reply
   each), in arrival order.

Why this gives the Share's guarantees:

- read-your-writes: a connection's writes and then its call arrive in order on one
  socket, and writes are applied before calls;
- a call sees every write that any client *completed* (its ``sendall`` returned)
  before the call was sent: a completed write is already in its socket's buffer
  (AF_UNIX delivers into the receiver's buffer), so that socket is readable when the
  call's socket is, and is read in the same round, before any call is answered;
- a client waits for each call's reply before it sends anything else, so answering
  the calls after the writes never reorders one connection's requests.

Replies and notices go into the peer's outbox and out as its socket has room (the
loop watches for "writable"), so a client that stops reading holds up nobody: once a
reply has made no progress for REPLY_TIMEOUT seconds, that client is dropped.
Messages are checked (a tuple, a known op, the right number of fields) before use:
an authenticated peer that sends anything else is dropped.

A write that fails is reported back with a NOTICE frame, which the client raises at
its next request. A client that ends before it could read a notice gets it printed
on the coordinator's stderr instead, so that no error vanishes.

``exit`` (from the owner): the barrier above, then the final objects go back in the
reply, every other client gets a BYE frame carrying how many of its writes were
applied (so a client can tell that writes it sent after the end were not), and the
process ends.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import fractions
import operator
import os
import re
import selectors
import signal
import socket
import sys
import threading
import time
import traceback
import types
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection, Listener
from pathlib import PurePath
from typing import Any

from ... import cerial
from . import _lifeline
from ._errors import ShareError
from ._handshake import admit
from ._ops import INPLACE
from ._protocol import (
    ACK,
    ATTR,
    BYE,
    CALL,
    CLEAR,
    DEL,
    DELATTR,
    DELITEM,
    ERROR,
    EXIT,
    FIELDS,
    GET,
    GETATTR,
    GETITEM,
    HELLO,
    IOP,
    NAMES,
    NOTICE,
    OK,
    PROXY,
    SET,
    SETATTR,
    SETITEM,
    SPECIAL,
    SYNC,
    WRITES,
    decode,
    encode,
    frame,
    unframe,
)

__all__ = (
    "BY_VALUE_TYPES", "SPECIALS", "Coordinator", "by_value", "coordinator_main", "resolve_here",
)

#: Types whose instances are returned by value (a copy), not as a proxy.
BY_VALUE_TYPES: frozenset[type] = frozenset({
    type(None), bool, int, float, complex, str, bytes, range, slice, type(Ellipsis),
    type(NotImplemented), decimal.Decimal, fractions.Fraction, datetime.date,
    datetime.time, datetime.datetime, datetime.timedelta, datetime.timezone, uuid.UUID,
    types.FunctionType, types.CodeType, type,
})
_BY_VALUE_BASES = (tuple, frozenset, enum.Enum, PurePath, re.Pattern, str, bytes, int, float, type)

# Largest amount read from one socket in one pass: far above what a socket buffer
# holds, so "read what was there when the pass began" is always satisfied.
_READ_CAP = 8 << 20
# Most notice bytes kept for one client: it raises the first one it reads anyway.
_OUTBOX_CAP = 256 << 10
_CHUNK = 1 << 18
_WAKE = object()
#: Seconds a reply may make no progress (the client does not read) before the client
#: is dropped.
REPLY_TIMEOUT = 30.0
# Longest pause of the acceptor after accept() failed (out of descriptors...).
_ACCEPT_BACKOFF = 0.5

#: The address of the Share this process serves, if it is a coordinator (so that a
#: proxy sent back to its own coordinator resolves to the real object).
serving: Any = None
_current: Coordinator | None = None


def by_value(obj: Any) -> bool:
    """True for objects a read returns as a plain value (immutable in practice)."""
    cls = type(obj)
    if cls in BY_VALUE_TYPES:
        return True
    if cls is types.BuiltinFunctionType:  # a function, or the method of an object?
        owner = getattr(obj, "__self__", None)
        return owner is None or isinstance(owner, types.ModuleType)
    return isinstance(obj, _BY_VALUE_BASES)


def _dunder(name: str, fn: Any) -> tuple[str, Any]:
    return name, fn


def _as_list(obj: Any) -> list[Any]:
    return list(obj)


#: The special methods a proxy forwards: name -> f(obj, *args).
SPECIALS: dict[str, Any] = dict([
    _dunder("__len__", len),
    _dunder("__iter__", _as_list),
    _dunder("__reversed__", lambda obj: list(reversed(obj))),
    _dunder("__contains__", lambda obj, item: item in obj),
    _dunder("__bool__", bool),
    _dunder("__repr__", repr),
    _dunder("__str__", str),
    _dunder("__hash__", hash),
    _dunder("__format__", format),
    _dunder("__eq__", operator.eq),
    _dunder("__ne__", operator.ne),
    _dunder("__lt__", operator.lt),
    _dunder("__le__", operator.le),
    _dunder("__gt__", operator.gt),
    _dunder("__ge__", operator.ge),
    _dunder("__neg__", operator.neg),
    _dunder("__pos__", operator.pos),
    _dunder("__abs__", abs),
    _dunder("__invert__", operator.invert),
    _dunder("__int__", int),
    _dunder("__float__", float),
    _dunder("__index__", operator.index),
    _dunder("__dir__", dir),
])
for _name in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow", "lshift",
              "rshift", "and", "xor", "or"):
    _fn = getattr(operator, f"{_name}_" if _name in ("and", "or") else _name)
    SPECIALS[f"__{_name}__"] = _fn
    SPECIALS[f"__r{_name}__"] = (lambda fn: lambda obj, other: fn(other, obj))(_fn)
SPECIALS["__divmod__"] = divmod
SPECIALS["__rdivmod__"] = lambda obj, other: divmod(other, obj)
del _name, _fn

_VIEWS: tuple[type[Iterable[Any]], ...] = (type({}.keys()), type({}.values()), type({}.items()))


class _Peer:
    """One client connection and what the coordinator knows of it."""

    __slots__ = (
        "buffer", "closed", "deadline", "dropped", "fd", "outbox", "sock", "unread", "watching",
        "writes",
    )

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.buffer = bytearray()
        self.closed = False
        #: Writes processed for this connection (applied, or failed and noticed).
        self.writes = 0
        #: Notices sent (or queued) that the client may not have read yet.
        self.unread: list[str] = []
        #: Frames not sent yet (notices, a reply): they go out as the socket has room.
        self.outbox = bytearray()
        #: While a reply waits in the outbox: when the client is dropped if it still
        #: takes none of it (a notice alone never times out: a writer need not read).
        self.deadline: float | None = None
        self.dropped = 0  # notices left out because the outbox was full
        self.watching = False  # registered for "writable" too


class Coordinator:
    """Serves one Share: see the module docstring."""

    def __init__(self, listener: Listener, authkey: bytes, store: dict[str, Any],
                 lifeline: Connection, address: Any) -> None:
        self.listener = listener
        self.authkey = authkey
        self.store = store
        self.lifeline = lifeline
        self.address = address
        self.selector = selectors.DefaultSelector()
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.incoming: deque[socket.socket] = deque()
        #: Held to add to ``incoming`` and, at the end, to close it for good.
        self.gate = threading.Lock()
        self.closing = False
        self.owner_gone = False
        self.peers: dict[int, _Peer] = {}
        self.sending: set[_Peer] = set()  # peers with a reply waiting in their outbox
        self.exiter: _Peer | None = None  # the owner's connection that asked to EXIT
        self.running = True
        #: Why the coordinator ends, told to clients: "crash" until EXIT is answered
        #: ("exit") or the owner is gone ("owner").
        self.reason = "crash"
        self.selector.register(self.wake_r, selectors.EVENT_READ, _WAKE)
        self.writers: dict[int, Callable[..., None]] = {
            SET: self._set, DEL: self._del, IOP: self._iop, SETATTR: self._setattr,
            DELATTR: self._delattr, SETITEM: self._setitem, DELITEM: self._delitem,
        }
        self.callers: dict[int, Callable[..., tuple[Any, ...]]] = {
            HELLO: self._hello, GET: self._get, GETATTR: self._getattr, GETITEM: self._getitem,
            CALL: self._call, SPECIAL: self._special, NAMES: self._names, CLEAR: self._clear,
            SYNC: self._sync, EXIT: self._exit,
        }

    # ------------------------------------------------------------------ the loop

    def serve(self) -> None:
        for target, name in ((self._accept_loop, "accept"), (self._watch_lifeline, "lifeline")):
            threading.Thread(target=target, name=f"suitkaise-share-{name}", daemon=True).start()
        try:
            while self.running:
                writes: list[tuple[_Peer, tuple[Any, ...]]] = []
                calls: list[tuple[_Peer, tuple[Any, ...]]] = []
                self._ingest(self.selector.select(self._timeout()), writes, calls)
                self._expire()
                for peer, message in writes:
                    self._apply_write(peer, message)
                for peer, message in calls:
                    if not self.running:
                        break
                    if not peer.closed:
                        self._answer(peer, message)
        finally:
            self._shutdown()

    def _ingest(self, events: list[Any], writes: list[Any], calls: list[Any]) -> None:
        for key, mask in events:
            tag = key.data
            if tag is _WAKE:
                if self.owner_gone:
                    self.running = False
                    self.reason = "owner"
                    return
                self._take_incoming()
                continue
            if mask & selectors.EVENT_WRITE:
                self._flush(tag)
            if mask & selectors.EVENT_READ and not tag.closed:
                self._read(tag, writes, calls)

    def _read(self, peer: _Peer, writes: list[Any], calls: list[Any]) -> None:
        eof = False
        got = 0
        while got < _READ_CAP:
            try:
                data = peer.sock.recv(_CHUNK)  # the socket is non-blocking
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                eof = True
                break
            if not data:
                eof = True
                break
            peer.buffer += data
            got += len(data)
            if len(data) < _CHUNK:
                break  # the socket had less than asked for: it is drained (EOF shows next time)
        if peer.buffer:
            try:
                messages = unframe(peer.buffer)
            except (ValueError, EOFError, TypeError):  # not our protocol: drop it
                messages, eof = [], True
            for message in messages:
                if not valid(message):
                    eof = True  # an authenticated peer that misbehaves: drop it only
                    break
                (writes if message[0] in WRITES else calls).append((peer, message))
        if eof:
            self._drop(peer)

    def _take_incoming(self) -> None:
        try:
            while self.wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while self.incoming:
            sock = self.incoming.popleft()
            sock.setblocking(False)
            peer = _Peer(sock)
            self.peers[peer.fd] = peer
            self.selector.register(sock, selectors.EVENT_READ, peer)

    def _drop(self, peer: _Peer) -> None:
        if peer.closed:
            return
        peer.closed = True
        self.peers.pop(peer.fd, None)
        self.sending.discard(peer)
        try:
            self.selector.unregister(peer.sock)
        except (KeyError, ValueError):
            pass
        peer.sock.close()
        for text in peer.unread:
            _report_lost(text)
        if peer.dropped:
            _report_lost(f"and {peer.dropped} more write(s) of the same connection")
        peer.unread.clear()

    def _accept_loop(self) -> None:
        """Accept connections; each is authenticated on a thread of its own."""
        failures = 0
        while self.running:
            try:
                conn = self.listener.accept()
                sock = socket.socket(fileno=os.dup(conn.fileno()))
                conn.close()
            except OSError:
                if not self.running:
                    return
                failures += 1  # out of descriptors, or a peer gone at once: back off
                time.sleep(min(0.01 * failures, _ACCEPT_BACKOFF))
                continue
            failures = 0
            threading.Thread(target=self._admit, args=(sock,), name="suitkaise-share-admit",
                             daemon=True).start()

    def _admit(self, sock: socket.socket) -> None:
        """Authenticate one new connection and hand it to the main loop (or, when the
        coordinator is ending, say goodbye)."""
        if not admit(sock, self.authkey):
            return
        with self.gate:
            admitted = not self.closing
            if admitted:
                self.incoming.append(sock)
        if admitted:
            self._wake()
        else:
            self._refuse(sock)

    def _refuse(self, sock: socket.socket) -> None:
        """Say goodbye to a connection that arrived as the coordinator ends."""
        try:
            sock.send(frame((BYE, 0, self.reason)))
        except OSError:
            pass
        sock.close()

    def _watch_lifeline(self) -> None:
        try:
            self.lifeline.recv_bytes()  # the owner never writes: this returns at EOF only
        except (EOFError, OSError):
            pass
        self.owner_gone = True
        self._wake()

    def _wake(self) -> None:
        try:
            self.wake_w.send(b"!")
        except OSError:
            pass

    # ------------------------------------------------------------------ requests

    def _apply_write(self, peer: _Peer, message: tuple[Any, ...]) -> None:
        if message[0] == ACK:
            del peer.unread[:message[1]]
            return
        try:
            self.writers[message[0]](*message[1:])
        except BaseException as exc:  # noqa: BLE001 - user code (even sys.exit()) ends nothing here
            self._notice(peer, message, exc)
        peer.writes += 1

    def _answer(self, peer: _Peer, message: tuple[Any, ...]) -> None:
        peer.unread.clear()  # the client reads every notice before this reply
        try:
            reply = self.callers[message[0]](*message[1:])
        except BaseException as exc:  # noqa: BLE001 - user code (even sys.exit()) ends nothing here
            reply = (ERROR, _error_bytes(exc))
        self._send(peer, frame(reply))
        if message[0] == EXIT:
            self.running = False
            self.reason = "exit"
            self.exiter = peer

    def _send(self, peer: _Peer, data: bytes) -> None:
        """Send a reply (after any queued notices) as far as the socket takes it now;
        the rest waits in the outbox and goes out from the loop (see ``_expire`` for a
        client that stops reading)."""
        if not peer.outbox:
            try:
                sent = peer.sock.send(data)  # the usual case: all of it, at once
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._drop(peer)
                return
            if sent == len(data):
                return
            peer.outbox += memoryview(data)[sent:]
        else:
            peer.outbox += data
        peer.deadline = time.monotonic() + REPLY_TIMEOUT
        self.sending.add(peer)
        self._flush(peer)

    def _flush(self, peer: _Peer) -> None:
        """Send what the outbox holds, as far as the socket takes it now."""
        if peer.closed:
            return
        before = len(peer.outbox)
        try:
            while peer.outbox:
                sent = peer.sock.send(peer.outbox)
                del peer.outbox[:sent]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self._drop(peer)
            return
        if not peer.outbox:
            peer.deadline = None
            self.sending.discard(peer)
        elif peer.deadline is not None and len(peer.outbox) < before:
            peer.deadline = time.monotonic() + REPLY_TIMEOUT  # it reads: give it time
        self._watch(peer, bool(peer.outbox))

    def _timeout(self) -> float | None:
        """How long the loop may wait: until the first reply deadline, if any."""
        if not self.sending:
            return None
        first = min(peer.deadline or 0.0 for peer in self.sending)
        return max(0.0, first - time.monotonic())

    def _expire(self) -> None:
        """Drop the clients that took nothing of their reply for REPLY_TIMEOUT seconds."""
        if not self.sending:
            return
        now = time.monotonic()
        for peer in [p for p in self.sending if p.deadline is not None and p.deadline <= now]:
            self._drop(peer)

    def _watch(self, peer: _Peer, writable: bool) -> None:
        if peer.closed or peer.watching == writable:
            return
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if writable else 0)
        self.selector.modify(peer.sock, events, peer)
        peer.watching = writable

    def _notice(self, peer: _Peer, message: tuple[Any, ...], exc: BaseException) -> None:
        what = describe(message)
        text = f"{what}: {type(exc).__name__}: {exc}"
        if peer.closed:
            _report_lost(text)
            return
        data = frame((NOTICE, _error_bytes(exc), what))
        if len(peer.outbox) + len(data) > _OUTBOX_CAP:
            peer.dropped += 1  # the client has plenty to raise already
            return
        peer.unread.append(text)
        peer.outbox += data
        self._flush(peer)

    # -- objects

    def _lookup(self, name: str) -> Any:
        try:
            return self.store[name]
        except KeyError:
            raise AttributeError(f"the Share has no attribute {name!r}") from None

    def resolve(self, path: tuple[Any, ...]) -> Any:
        obj = self._lookup(path[0])
        for kind, step in path[1:]:
            obj = getattr(obj, step) if kind == ATTR else obj[decode(step)]
        return obj

    def _value(self, obj: Any) -> tuple[Any, ...]:
        if by_value(obj):
            return (OK, encode(obj))
        return (PROXY,)

    # -- writes

    def _set(self, name: str, value: Any) -> None:
        self.store[name] = decode(value)

    def _del(self, name: str) -> None:
        self._lookup(name)
        del self.store[name]

    def _iop(self, path: tuple[Any, ...], symbol: str, value: Any) -> None:
        apply = INPLACE[symbol]
        operand = decode(value)
        name = path[0]
        if len(path) == 1:
            self.store[name] = apply(self._lookup(name), operand)
            return
        parent = self.resolve(path[:-1])
        kind, step = path[-1]
        if kind == ATTR:
            setattr(parent, step, apply(getattr(parent, step), operand))
        else:
            key = decode(step)
            parent[key] = apply(parent[key], operand)

    def _setattr(self, path: tuple[Any, ...], attr: str, value: Any) -> None:
        setattr(self.resolve(path), attr, decode(value))

    def _delattr(self, path: tuple[Any, ...], attr: str) -> None:
        delattr(self.resolve(path), attr)

    def _setitem(self, path: tuple[Any, ...], key: Any, value: Any) -> None:
        self.resolve(path)[decode(key)] = decode(value)

    def _delitem(self, path: tuple[Any, ...], key: Any) -> None:
        del self.resolve(path)[decode(key)]

    # -- calls

    def _hello(self) -> tuple[Any, ...]:
        return (OK, os.getpid())

    def _get(self, name: str) -> tuple[Any, ...]:
        return self._value(self._lookup(name))

    def _getattr(self, path: tuple[Any, ...], attr: str) -> tuple[Any, ...]:
        return self._value(getattr(self.resolve(path), attr))

    def _getitem(self, path: tuple[Any, ...], key: Any) -> tuple[Any, ...]:
        return self._value(self.resolve(path)[decode(key)])

    def _call(self, path: tuple[Any, ...], method: str | None, args: Any) -> tuple[Any, ...]:
        target = self.resolve(path)
        if method is not None:
            target = getattr(target, method)
        positional, keywords = decode_args(args)
        return (OK, _result(target(*positional, **keywords)))

    def _special(self, path: tuple[Any, ...], name: str, args: Any) -> tuple[Any, ...]:
        positional, _ = decode_args(args)
        return (OK, _result(SPECIALS[name](self.resolve(path), *positional)))

    def _names(self) -> tuple[Any, ...]:
        return (OK, tuple(self.store))

    def _clear(self) -> tuple[Any, ...]:
        self.store.clear()
        return (OK, None)

    def _sync(self) -> tuple[Any, ...]:
        return (OK, None)

    def _exit(self) -> tuple[Any, ...]:
        """The final objects, as cerial bytes of ``(objects, error bytes or None)``."""
        try:
            return (OK, cerial.serialize((self.store, None)))
        except Exception as exc:
            kept, lost = {}, []
            for name, obj in self.store.items():
                try:
                    cerial.serialize(obj)
                except Exception as one:  # noqa: BLE001 - reported by name below
                    lost.append(f"{name} ({type(one).__name__}: {one})")
                else:
                    kept[name] = obj
            error = ShareError(
                "these objects could not be sent back to the owner when the Share exited "
                f"and are lost: {', '.join(lost)}"
            )
            error.__cause__ = exc
            return (OK, cerial.serialize((kept, _error_bytes(error))))

    # ------------------------------------------------------------------ the end

    def _shutdown(self) -> None:
        self.running = False
        try:
            self.listener.close()  # also removes the socket file
        except OSError:
            pass
        with self.gate:
            self.closing = True
        while self.incoming:  # connected, never registered: tell them too
            self._refuse(self.incoming.popleft())
        for peer in list(self.peers.values()):
            if not peer.closed:
                peer.outbox += frame((BYE, peer.writes, self.reason))
                self._flush(peer)  # best effort: without it the client sees EOF instead
        self._finish_replies()
        for peer in list(self.peers.values()):
            if not peer.closed and not peer.outbox:
                peer.unread.clear()  # delivered: the client reads them before the BYE
            self._drop(peer)

    def _finish_replies(self) -> None:
        """Before ending: let the owner take the rest of its ``exit`` reply (the final
        objects), within the reply deadline. (Every other client gets what its socket
        takes at once: a goodbye it cannot read is an EOF to it.)"""
        peer = self.exiter
        if peer is None or peer not in self.sending:
            return
        with selectors.DefaultSelector() as waiter:
            waiter.register(peer.sock, selectors.EVENT_WRITE)
            while peer in self.sending:
                waiter.select(self._timeout())
                self._flush(peer)
                self._expire()
        if self.reason == "owner" and isinstance(self.address, str):
            try:
                os.rmdir(os.path.dirname(self.address))  # nobody else is left to remove it
            except OSError:
                pass

    def forget_after_fork(self) -> None:
        """In a process forked from the coordinator (by a shared object's method): let
        go of every socket, so that the coordinator's end still shows EOF when it ends."""
        for peer in self.peers.values():
            try:
                peer.sock.close()
            except OSError:
                pass
        for sock in (self.wake_r, self.wake_w):
            try:
                sock.close()
            except OSError:
                pass
        try:
            self.lifeline.close()
        except OSError:
            pass


# ---------------------------------------------------------------------- helpers


def decode_args(args: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``(args, kwargs)`` from a CALL/SPECIAL field (a plain tuple, or cerial bytes)."""
    if type(args) is bytes:
        return cerial.deserialize(args)
    return args, {}


def _result(value: Any) -> Any:
    if isinstance(value, _VIEWS):
        value = list(value)
    try:
        return encode(value)
    except Exception as exc:
        raise ShareError(
            f"the result ({type(value).__name__}) could not be sent back from the Share's "
            f"coordinator: {type(exc).__name__}: {exc}"
        ) from exc


def _error_bytes(exc: BaseException) -> bytes:
    text = "".join(traceback.format_exception(exc))
    text = f'"""\n{text.rstrip()}\n"""  (in the Share coordinator, pid {os.getpid()})'
    exc.__traceback__ = None
    try:
        return cerial.serialize((exc, text))
    except Exception:  # noqa: BLE001 - fall back to a description of the error
        return cerial.serialize((ShareError(f"{type(exc).__name__}: {exc}"), text))


def valid(message: Any) -> bool:
    """True for a request this coordinator can take: a tuple of a known op and as many
    fields as that op has (an ACK's count an int)."""
    if type(message) is not tuple or not message:
        return False
    op = message[0]
    if type(op) is not int or FIELDS.get(op) != len(message) - 1:
        return False
    return op != ACK or (type(message[1]) is int and message[1] >= 0)


def describe(message: tuple[Any, ...]) -> str:
    """A short human description of a write, for error messages."""
    try:
        return _describe(message)
    except Exception:  # noqa: BLE001 - a malformed path: only for a message
        return f"request {message[0]}"


def _describe(message: tuple[Any, ...]) -> str:
    op = message[0]
    if op == SET:
        return f"share.{message[1]} = ..."
    if op == DEL:
        return f"del share.{message[1]}"
    if op == IOP:
        return f"{_path_text(message[1])} {message[2]} ..."
    if op in (SETATTR, DELATTR):
        target = f"{_path_text(message[1])}.{message[2]}"
        return f"{target} = ..." if op == SETATTR else f"del {target}"
    if op in (SETITEM, DELITEM):
        target = f"{_path_text(message[1])}[{_key_text(message[2])}]"
        return f"{target} = ..." if op == SETITEM else f"del {target}"
    return f"request {op}"


def _key_text(step: Any) -> str:
    try:
        return repr(decode(step))
    except Exception:  # noqa: BLE001 - only for a message
        return "..."


def _path_text(path: tuple[Any, ...]) -> str:
    text = f"share.{path[0]}"
    for kind, step in path[1:]:
        text += f".{step}" if kind == ATTR else f"[{_key_text(step)}]"
    return text


def _report_lost(text: str) -> None:
    try:
        sys.stderr.write(
            f"suitkaise Share (coordinator pid {os.getpid()}): a write failed and the process "
            f"that sent it ended before it could be told: {text}\n"
        )
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def coordinator_main(address: Any, authkey: bytes, state: bytes | None, lifeline: Connection,
                     owner_pid: int, die_with_owner: bool) -> None:
    """The target of the coordinator process: listen on *address*, tell the owner
    ``("ready", address)`` (or the error that prevented it) and serve."""
    global serving, _current
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the owner; its end ends us
    socket.setdefaulttimeout(None)  # a forked coordinator inherits the owner's
    if die_with_owner and not _lifeline.die_with_parent(owner_pid):
        return
    try:
        store = cerial.deserialize(state) if state is not None else {}
        try:
            listener = Listener(address, backlog=128)  # authentication: see _admit()
        except OSError:
            if not isinstance(address, tuple) or not address[1]:
                raise
            listener = Listener((address[0], 0), backlog=128)  # port taken
    except BaseException as exc:
        try:
            lifeline.send_bytes(_error_bytes(exc))
        except OSError:
            pass
        return
    coordinator = Coordinator(listener, authkey, store, lifeline, listener.address)
    serving, _current = listener.address, coordinator
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=coordinator.forget_after_fork)
    try:
        lifeline.send_bytes(cerial.serialize(("ready", listener.address)))
    except OSError:
        coordinator.reason = "owner"
        coordinator._shutdown()
        return
    coordinator.serve()


def resolve_here(address: Any, path: tuple[Any, ...]) -> Any:
    """The real object behind a proxy of this coordinator's own Share (a proxy that was
    sent back to the coordinator inside a value)."""
    if _current is None or address != serving:
        raise ShareError("resolve_here() outside the coordinator")
    return _current.resolve(path)
