"""The channels between a parent and its process: ``tell()`` that never blocks, cheap reads.

::

    tell(obj) --encode--> nothing queued, and the message fits in PIPE_BUF?
                                      | yes                         | no, or the socket is full
                                      v                             v
                                    one non-blocking write   -->  pending deque --[feeder]--> socket
                                    (in the caller)                 (one thread per channel,
                                                                     started on first need)

    socket --Receiver.recv()--> bytes (small message) / a view of a reused buffer (large)
                                                  --> decode --> listen()

Both directions share one Unix socket pair (:func:`channel`): each side reads from
its end and writes through a second descriptor of that same end. Two processes
trading small messages over one socket pair wake each other about 9 µs sooner per
round trip than over one socket pair per direction (measured on this project's
2-vCPU VM: 42 against 51 µs), and a Unix socket moves a large message in about half
the time of a pipe, which has to allocate a page for every 4 KiB it holds.
A small message goes straight into the socket from the caller's thread, with a
non-blocking send (``MSG_DONTWAIT``: the socket itself stays blocking, for its
reader): the framed message (4-byte length + kind + body) is at most ``PIPE_BUF``
bytes, which the socket takes whole or, when it has no room, not at all (``EAGAIN``;
should it ever take a part, the rest goes to the feeder). Anything else -- a large
message, a full socket, or messages already waiting -- goes to the queue of the
channel's feeder thread, so the caller never waits for the reader and messages keep
their order (a direct write only happens while the queue is empty and the feeder is
not in the middle of a write). The feeder's writes block until the kernel has room.
It starts the first time it is needed and lives as long as the channel, so a process
that only tells small messages to a reader that keeps up never starts a thread, and
a burst of large ones starts one thread, once.
A channel whose reader is gone drops what is still queued (the other process has ended;
nothing could read it any more).

Every message starts with one byte that says how the rest is encoded (:func:`encode`,
:func:`decode`): a ``bytes`` object travels as it is (the sender writes the caller's
object itself, with no copy); plain values -- ``int``, ``float``, ``str``, ``bool``,
``None``, ``bytes``, and small tuples, lists and dicts of them -- are pickled (what
cerial would produce for them, without its envelope and checksum, which cost more than
the pickling); anything else goes through cerial.

The framing is multiprocessing's (``Connection.send_bytes``/``recv_bytes``). A
:class:`Receiver` reads a large message straight into a buffer it keeps for the next
one (up to :data:`KEEP_BUFFER` bytes): fresh memory for every megabyte costs more than
the copy itself (the kernel has to map every page of it). :class:`Waiter` polls a set
of connections and process sentinels registered once; ``multiprocessing.connection.wait``
and ``Connection.poll`` build a selector on every call. Both fall back to the
multiprocessing functions where there is no ``poll()`` (Windows).
"""

from __future__ import annotations

import math
import os
import pickle
import select
import socket
import struct
import sys
import threading
from collections import deque
from multiprocessing.connection import Connection
from typing import Any

from .. import cerial
from ._context import mark_fork_safe
from ._interrupts import interrupts_held

__all__ = (
    "CLOSED", "DIRECT_LIMIT", "KEEP_BUFFER", "NOT_YET", "WAITS_IN_READ", "Receiver", "Sender",
    "Waiter", "channel", "decode", "encode",
)

_POSIX = hasattr(select, "poll") and os.name == "posix" and hasattr(socket, "MSG_DONTWAIT")
#: Largest message (kind byte and body) written directly by the caller: multiprocessing
#: frames a message with a 4-byte length. 0 without ``poll``: every message goes to the
#: feeder.
DIRECT_LIMIT = select.PIPE_BUF - 4 if _POSIX else 0
#: A receive buffer up to this size is kept for the next large message.
KEEP_BUFFER = 4 * 1024 * 1024
#: Messages larger than this are read into the kept buffer, smaller ones as bytes.
_LARGE = 64 * 1024
#: How much one read asks for: a small message whole, length and data.
_CHUNK = getattr(select, "PIPE_BUF", 4096)

_POLLIN = getattr(select, "POLLIN", 0)
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
_LENGTH = struct.Struct("!i")
_LONG_LENGTH = struct.Struct("!Q")


# The first byte of a message: how the rest of it is encoded.
_CERIAL, _PICKLE, _BYTES = b"\x00", b"\x01", b"\x02"
#: Exact types whose values pickle exactly as cerial would pickle them.
_PLAIN = frozenset({int, float, str, bool, type(None), bytes})
#: The plain types that are pickled whole (Sender.send checks them first, inline).
_SCALARS = frozenset({int, float, str, bool, type(None)})
_dumps, _loads = pickle.dumps, pickle.loads

#: What :meth:`Receiver.get` returns at EOF (or when the connection fails).
CLOSED: Any = object()
#: What :meth:`Receiver.get_within` returns when nothing came in time.
NOT_YET: Any = object()
_PART: Any = object()  # a read brought only part of a message (or more than one)
#: Tuples, lists and dicts of plain values up to this length are pickled too.
_PLAIN_ITEMS = 16


def _plain(obj: Any) -> bool:
    kind = type(obj)
    if kind in _PLAIN:
        return True
    if kind is tuple or kind is list:
        return len(obj) <= _PLAIN_ITEMS and all(type(item) in _PLAIN for item in obj)
    if kind is dict:
        return len(obj) <= _PLAIN_ITEMS and all(
            type(key) in _PLAIN and type(value) in _PLAIN for key, value in obj.items()
        )
    return False


def encode(obj: Any) -> tuple[bytes, Any]:
    """``(kind, body)``: the message for *obj* is the kind byte followed by *body*
    (a bytes-like object). Raises cerial's ``SerializationError`` like ``serialize``."""
    if type(obj) is bytes:
        return _BYTES, obj
    if _plain(obj):
        return _PICKLE, pickle.dumps(obj, 5)
    return _CERIAL, cerial.serialize(obj)


def decode(message: bytes | bytearray | memoryview) -> Any:
    """The object a message (kind byte and body, as :func:`encode` made them) stands for.

    *message* may be a view of a buffer that is reused later: the object never refers
    to it.
    """
    kind = message[0]
    body = memoryview(message)[1:]
    if kind == 2:
        return bytes(body)
    if kind == 1:
        return pickle.loads(body)
    return cerial.deserialize(body)


def _head(size: int) -> bytes:
    """multiprocessing's length prefix for a message of *size* bytes."""
    if size > 0x7FFFFFFF:
        return _LENGTH.pack(-1) + _LONG_LENGTH.pack(size)
    return _LENGTH.pack(size)


def _write_all(fd: int, parts: list[Any]) -> None:
    """Write *parts* to the blocking *fd*, in order, whole (writev may stop early on a
    signal)."""
    views = [memoryview(part).cast("B") for part in parts]
    while views:
        written = os.writev(fd, views)
        while views and written >= len(views[0]):
            written -= len(views.pop(0))
        if written:
            views[0] = views[0][written:]


def _millis(timeout: float | None) -> int | None:
    return None if timeout is None else max(0, math.ceil(timeout * 1000))


#: Whether :meth:`Receiver.get_within` can wait in the read itself here: on Linux,
#: where SO_RCVTIMEO takes a struct timeval of two C longs.
WAITS_IN_READ = _POSIX and sys.platform.startswith("linux")
_NO_TIMEOUT = struct.pack("@ll", 0, 0)


def _timeval(seconds: float) -> bytes:
    whole = int(seconds)
    return struct.pack("@ll", whole, max(1, int((seconds - whole) * 1e6)))


def channel(ctx: Any) -> tuple[Connection, Any, Connection, Any]:
    """The ends of one tell/listen channel: ``(parent reads, parent writes, child reads,
    child writes)``. A writing end is what a :class:`Sender` takes.

    POSIX: one socket pair; each side's writing end is a socket on a second descriptor
    of its reading end (see the module docstring). Elsewhere: a pipe per direction.
    """
    if not _POSIX:
        parent_in, child_out = ctx.Pipe(duplex=False)
        child_in, parent_out = ctx.Pipe(duplex=False)
        return parent_in, parent_out, child_in, child_out
    parent, child = socket.socketpair()
    try:
        for end in (parent, child):
            end.setblocking(True)  # (whatever socket.setdefaulttimeout says)
        parent_in, child_in = Connection(parent.dup().detach()), Connection(child.dup().detach())
    except BaseException:
        parent.close()
        child.close()
        raise
    return parent_in, parent, child_in, child


class Receiver:
    """Reads the messages of one connection (multiprocessing's framing).

    Reads ``PIPE_BUF`` bytes at a time, so that a small message (length and data)
    takes one read; what such a read brings of the next messages waits in the
    receiver (:attr:`buffered`) for the next :meth:`recv`.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._rest = b""  # read from the connection, not yet returned
        self._buffer = bytearray()  # kept for the next large message (reuse=True)
        self._ready: Any = None
        self._more: Any = None  # the connection and the writer's exit (see watch())
        if _POSIX:
            self._fd = conn.fileno()
            self._ready = select.poll()
            self._ready.register(self._fd, _POLLIN)

    def watch(self, exit_fd: int) -> None:
        """Wait on *exit_fd* (readable once the writing process has ended) too, in the
        middle of a message: when it is ready and the connection is not, the rest of
        the message is not coming, and the read raises ``EOFError``. (EOF alone does not
        tell: a process the writer started may keep its end open.) Call
        :meth:`unwatch` before closing *exit_fd*."""
        if self._ready is not None:
            self._more = select.poll()
            self._more.register(self._fd, _POLLIN)
            self._more.register(exit_fd, _POLLIN)

    def unwatch(self) -> None:
        """Stop waiting on the exit descriptor given to :meth:`watch`."""
        self._more = None

    def _read_more(self, size: int, into: list[bytes]) -> int:
        """A read in the middle of a message (see :meth:`watch`), appended to *into*;
        the number of bytes read. (The read and the append happen with SIGINT held:
        see :meth:`recv`.)"""
        self._await_more()
        with interrupts_held():
            data = os.read(self._fd, size)
            if data:
                into.append(data)
        if not data:
            raise EOFError("the other process closed the connection in the middle of a message")
        return len(data)

    def _await_more(self) -> None:
        """Wait until the rest of a message can be read (an interrupt may land here: it
        finds nothing read and lost)."""
        if self._more is None:
            self._ready.poll()
            return
        fd = self._fd
        if not any(ready == fd for ready, _ in self._more.poll()):
            raise EOFError("the other process ended in the middle of a message")

    @property
    def buffered(self) -> bool:
        """True while bytes already read wait here (so the connection may look empty)."""
        return bool(self._rest)

    def readable(self, timeout: float | None = 0.0) -> bool:
        """True if a message (or EOF) can be read within *timeout* seconds."""
        if self._rest:
            return True
        if self._ready is None:
            return self.conn.poll(timeout)
        return bool(self._ready.poll(_millis(timeout)))

    def get(self) -> Any:
        """The next message, decoded (:func:`decode`); blocks until it is complete.
        :data:`CLOSED` at EOF or when the connection fails (what decoding raises, it
        raises).

        The usual case inline: nothing buffered, and one read brings exactly one small
        pickled message.
        """
        try:
            if self._ready is not None and not self._rest:
                # What a read brings is kept in _rest until it is decoded: a Ctrl-C
                # (held through the read, raised after it) finds it there next time.
                with interrupts_held():
                    self._rest = os.read(self._fd, _CHUNK)
                value = self._take_first()
                if value is not _PART:
                    return value
            message = self.recv(reuse=True)
        except (EOFError, OSError):
            return CLOSED
        try:
            return decode(message)
        except Exception:
            raise
        except BaseException:  # interrupted while it decodes: it stays the next message
            with interrupts_held():  # (a second Ctrl-C waits for this copy)
                self._rest = _head(len(message)) + bytes(message) + self._rest
            raise

    def _first_read(self, data: bytes) -> Any:
        """What a read made with nothing buffered brought: the usual case, exactly one
        small pickled message, unpickled; :data:`CLOSED` at EOF; else ``_PART``, and
        *data* is kept for :meth:`recv` to read the rest from."""
        size = len(data)
        if size > 5 and data[4] == 1 and _LENGTH.unpack_from(data)[0] == size - 4:
            return _loads(data[5:])
        if not data:
            return CLOSED
        self._rest = data
        return _PART

    def get_within(self, sock: socket.socket, seconds: float) -> Any:
        """Like :meth:`get`, but wait for the message in the read itself, at most
        *seconds*: :data:`NOT_YET` if nothing came by then.

        *sock* is a socket on this same connection (the channel's writing end); its
        receive timeout (``SO_RCVTIMEO``) is set for this one read. A reader woken from
        a read gets a small message about 7 µs sooner than one woken from ``poll()``
        (measured: a round trip between two processes, 41 against 48 µs), the time a
        ``tell``/``listen`` round trip is about. Linux only (:data:`WAITS_IN_READ`):
        elsewhere the timeval is not two C longs.
        """
        if self._rest:
            return self.get()
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(seconds))
        except OSError:  # (a timeval of another size, say): wait in poll() instead
            return self.get() if self.readable(seconds) else NOT_YET
        try:
            # (SIGINT held: a Ctrl-C waits for this read, at most *seconds*, and what it
            # brought stays in _rest until decoded, as in get())
            with interrupts_held():
                self._rest = os.read(self._fd, _CHUNK)
        except BlockingIOError:  # the time ran out
            return NOT_YET
        except OSError:
            return CLOSED
        finally:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _NO_TIMEOUT)
            except OSError:
                pass  # it was set a moment ago: the socket is going away
        value = self._take_first()
        return self.get() if value is _PART else value

    def _take_first(self) -> Any:
        """:meth:`_first_read` of what the last read brought (in ``_rest``), which is
        then consumed, unless it is a part of a message (``_PART``: :meth:`recv` goes
        on from it). An error decoding it consumes it too (it is raised once); an
        interrupt leaves it for the next call."""
        try:
            value = self._first_read(self._rest)
        except Exception:
            self._rest = b""
            raise
        if value is not _PART:
            self._rest = b""
        return value

    def recv(self, *, reuse: bool = False) -> bytes | bytearray | memoryview:
        """The next message; blocks until it is complete. Raises ``EOFError`` at EOF.

        With *reuse*, a large message may come as a view of a buffer that the next
        ``recv(reuse=True)`` overwrites: deserialize it before reading on.

        A Ctrl-C while the rest of a message comes loses nothing: every read and the
        note of what it brought happen with SIGINT held (the waits between them stay
        interruptible), and what has come goes back to ``_rest``, so the next call
        goes on with the same message.
        """
        if self._ready is None:
            return self.conn.recv_bytes()
        if not self._rest:
            self._await_more()
            with interrupts_held():
                self._rest = os.read(self._fd, _CHUNK)
            if not self._rest:
                raise EOFError("the other process closed the connection")
        parts = [self._rest]
        view: memoryview | None = None  # a large message's buffer, filled up to got[0]
        got = [0]  # (a list: kept up to date inside the held reads)
        try:
            while sum(map(len, parts)) < 12:
                head = b"".join(parts)
                if len(head) >= 4 and head[:4] != b"\xff\xff\xff\xff":
                    break
                self._read_more(_CHUNK, parts)
            data = b"".join(parts)
            (size,) = _LENGTH.unpack_from(data)
            start = 4
            if size == -1:
                (size,) = _LONG_LENGTH.unpack_from(data, 4)
                start = 12
            if size < 0:
                raise EOFError(f"a message of length {size} came: the stream is corrupt")
            end = start + size
            if len(data) >= end:  # the whole message is here
                self._rest = data[end:]
                return data[start:end]
            parts = [data]
            if size <= _LARGE:
                left = end - len(data)
                while left:
                    left -= self._read_more(left, parts)
                message = b"".join(parts)[start:]
                self._rest = b""
                return message
            with interrupts_held():  # (the buffer, and what it holds already, together)
                if reuse and size <= KEEP_BUFFER:
                    if len(self._buffer) < size:
                        self._buffer = bytearray(size)
                    view = memoryview(self._buffer)[:size]
                else:
                    view = memoryview(bytearray(size))
                got[0] = len(data) - start
                view[:got[0]] = data[start:]
            while got[0] < size:
                self._await_more()
                with interrupts_held():
                    count = os.readv(self._fd, [view[got[0]:]])
                    got[0] += count
                if not count:
                    raise EOFError(
                        "the other process closed the connection in the middle of a message")
            self._rest = b""
            return view if reuse else view.obj  # type: ignore[return-value]
        except EOFError:
            self._rest = b""
            raise
        except BaseException:
            with interrupts_held():  # (a second Ctrl-C waits for this copy)
                if view is None:
                    self._rest = b"".join(parts)
                else:
                    self._rest = data[:start] + bytes(view[:got[0]])
            raise


class Waiter:
    """Waits until one of a set of connections and sentinels is ready to read."""

    def __init__(self, objects: list[Any]) -> None:
        self._objects: dict[int, Any] = {}
        self._poll: Any = select.poll() if _POSIX else None
        for obj in objects:
            self.add(obj)

    @staticmethod
    def _fd(obj: Any) -> int:
        return obj if isinstance(obj, int) else obj.fileno()

    def add(self, obj: Any) -> None:
        fd = self._fd(obj)
        self._objects[fd] = obj
        if self._poll is not None:
            self._poll.register(fd, _POLLIN)

    def remove(self, obj: Any) -> None:
        """Stop watching *obj*; call it before *obj* is closed."""
        fd = self._fd(obj)
        if self._objects.pop(fd, None) is not None and self._poll is not None:
            self._poll.unregister(fd)

    def wait(self, timeout: float | None) -> list[Any]:
        """The watched objects ready to read (data, EOF, or exited) within *timeout*."""
        if self._poll is None:
            from multiprocessing.connection import wait

            return wait(list(self._objects.values()), timeout)
        objects = self._objects
        ready = self._poll.poll(None if timeout is None else _millis(timeout))
        if len(ready) == 1:  # (the usual case, without a list comprehension's frame)
            return [objects[ready[0][0]]]
        return [objects[fd] for fd, _ in ready]


class Sender:
    """Writes serialized messages to one connection, in order, never blocking the caller.

    *conn* is a writing end from :func:`channel`: a socket on POSIX, else a Connection.
    """

    def __init__(self, conn: Any, name: str) -> None:
        self._conn = conn
        self._name = name
        # What the feeder writes, message by message: on POSIX the raw parts of a frame
        # (head and kind, body; or what a direct write left over), else (kind, body).
        self._pending: deque[tuple[Any, ...]] = deque()
        self._lock = threading.Lock()
        # Made with the feeder (a Sender that only ever writes directly needs neither).
        self._work: Any = None  # the feeder waits here for messages
        self._idle: Any = None  # flush() waits here for an empty queue
        self._writing = False  # the feeder is writing a message (outside the lock)
        self._feeder: threading.Thread | None = None
        self._broken = False
        self._close_conn = False
        self._raw = _POSIX  # we write frames to the socket ourselves
        if _POSIX:
            self._fd = conn.fileno()

    def send(self, obj: Any) -> None:
        # (The usual case inline: a scalar, pickled and written at once; see encode.)
        if type(obj) in _SCALARS:
            kind, body = _PICKLE, _dumps(obj, 5)
        else:
            kind, body = encode(obj)
        with self._lock:
            if self._broken:
                return
            if len(body) < DIRECT_LIMIT and not self._pending and not self._writing:
                message = _LENGTH.pack(len(body) + 1) + kind + body
                try:
                    written = self._conn.send(message, _DONTWAIT)
                except BlockingIOError:
                    item: tuple[Any, ...] = (message,)
                except OSError:  # the reader is gone
                    self._broken = True
                    return
                else:
                    if written == len(message):
                        return
                    # The socket took a part (it should not): the rest goes to the feeder.
                    item = (memoryview(message)[written:],)
            elif self._raw:
                item = (_head(len(body) + 1) + kind, body)
            else:
                item = (kind, body)
            self._pending.append(item)
            feeder = self._feeder
            if feeder is None or not feeder.is_alive():  # (dead: we are a fork of its process)
                if self._work is None:
                    self._work = threading.Condition(self._lock)
                    self._idle = threading.Condition(self._lock)
                name = f"suitkaise-tell:{self._name}"
                feeder = threading.Thread(target=self._feed, name=name, daemon=True)
                self._feeder = mark_fork_safe(feeder)
                feeder.start()
            else:
                self._work.notify()

    def _feed(self) -> None:
        while True:
            with self._work:
                while not self._pending and not self._broken:
                    self._work.wait()
                if self._broken:
                    self._pending.clear()
                    if self._close_conn:
                        self._conn.close()
                    self._idle.notify_all()
                    return
                item = self._pending.popleft()
                self._writing = True
            try:
                if self._raw:
                    # Blocking writes: the kernel waits for room, without waking us up
                    # for every chunk. (No direct write can run meanwhile: we are
                    # "writing".) A body goes out as it is, not copied behind its head.
                    _write_all(self._fd, list(item))
                else:
                    self._conn.send_bytes(item[0] + item[1])
            except (OSError, ValueError):  # reader gone, or connection closed here
                with self._work:
                    self._broken = True
                    self._pending.clear()
            finally:
                del item
                with self._work:
                    self._writing = False
                    if not self._pending:
                        self._idle.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued is written; False if *timeout* passed first."""
        with self._lock:
            if self._idle is None:  # no feeder ever: every message was written directly
                return True
            return self._idle.wait_for(
                lambda: self._broken or not (self._pending or self._writing), timeout
            )

    def close(self, *, close_conn: bool = False) -> None:
        """Drop what is still queued; the feeder stops after its current write.

        With *close_conn*, also close the connection, but only once no write is in
        progress: closing under a running write could let it hit a reused descriptor.
        """
        with self._lock:
            self._broken = True
            self._pending.clear()
            if self._work is not None:
                self._work.notify_all()
            if close_conn:
                if self._writing:
                    self._close_conn = True  # the feeder closes it after its write
                else:
                    self._conn.close()
