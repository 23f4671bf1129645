"""tell/listen channels: order across direct and queued writes, large messages, never
blocking, one feeder thread, and the pieces of _channel on their own."""

from __future__ import annotations

import enum
import os
import select
import socket
import struct
import threading
import time

import pytest
from _support import TIMEOUT

from suitkaise.processing import Skprocess, _channel

# The largest message tell() writes itself, without the feeder (PIPE_BUF minus the length).
DIRECT = _channel.DIRECT_LIMIT
# A tell() must come back at once: this bounds "at once" generously on a busy machine.
PROMPT = 1.0


def sizes() -> list[int]:
    """Payload sizes around every boundary of the channel: the direct-write limit, the
    receiver's one-read size, its large-message size, and its kept buffer."""
    large = 64 * 1024
    return [
        0, 1, DIRECT - 64, DIRECT - 40, DIRECT, DIRECT + 100, 4096, 16 * 1024,
        large - 100, large + 100, 1024 * 1024, _channel.KEEP_BUFFER + 1000,
    ]


class Echo(Skprocess):
    """Tells back whatever it hears, until it hears "bye"."""

    def __run__(self):
        message = self.listen(timeout=TIMEOUT)
        if message == "bye":
            self.stop()
            return
        self.tell(message)


class Burst(Skprocess):
    """Tells `messages` in one burst (mixed sizes), then waits for the parent's burst and
    returns it as received."""

    def __init__(self, messages, expect):
        self.process_config.runs = 1
        self.messages, self.expect = messages, expect

    def __run__(self):
        for message in self.messages:
            self.tell(message)
        self.received = [self.listen(timeout=TIMEOUT) for _ in range(self.expect)]

    def __result__(self):
        return self.received


class Deaf(Skprocess):
    """Never listens: says "ready" and sleeps until told to stop (or killed)."""

    def __run__(self):
        if not hasattr(self, "said"):
            self.said = True
            self.tell("ready")
        time.sleep(0.01)


class Mouth(Skprocess):
    """Tells `count` messages of `size` bytes as fast as it can, timing each tell()."""

    def __init__(self, count, size):
        self.process_config.runs = 1
        self.count, self.size = count, size

    def __run__(self):
        slowest = 0.0
        for i in range(self.count):
            started = time.monotonic()
            self.tell((i, b"m" * self.size))
            slowest = max(slowest, time.monotonic() - started)
        self.slowest = slowest
        self.feeders = sum(t.name.startswith("suitkaise-tell") for t in threading.enumerate())

    def __result__(self):
        return self.slowest, self.feeders


def mixed(tag: str, count: int = 60) -> list[tuple[str, int, bytes]]:
    """Messages that go directly (small) and through the feeder (large), interleaved."""
    out = []
    for i in range(count):
        size = (100, 30_000, 10, DIRECT - 30, 200_000, 5)[i % 6]
        out.append((tag, i, bytes([i % 251]) * size))
    return out


@pytest.mark.usefixtures("start_method")
def test_order_is_kept_across_direct_and_queued_writes_both_ways():
    from_child, from_parent = mixed("child"), mixed("parent")
    p = Burst(from_child, expect=len(from_parent))
    p.start()
    for message in from_parent:
        p.tell(message)
    received = [p.listen(timeout=TIMEOUT) for _ in range(len(from_child))]
    assert received == from_child
    assert p.result() == from_parent


@pytest.mark.usefixtures("start_method")
def test_messages_of_every_size_round_trip():
    p = Echo()
    p.start()
    for size in sizes():
        payload = os.urandom(size)
        p.tell(payload)
        assert p.listen(timeout=TIMEOUT) == payload, size
    # A large structured message, and a burst of large ones in a row.
    nested = {"rows": [list(range(1000)) for _ in range(200)], "blob": os.urandom(300_000)}
    p.tell(nested)
    assert p.listen(timeout=TIMEOUT) == nested
    blobs = [os.urandom(900_000) for _ in range(4)]
    for blob in blobs:
        p.tell(blob)
    assert [p.listen(timeout=TIMEOUT) for _ in blobs] == blobs
    p.tell("bye")
    p.wait(timeout=TIMEOUT)


def test_parent_tell_returns_at_once_when_the_child_never_reads():
    p = Deaf()
    p.start()
    assert p.listen(timeout=TIMEOUT) == "ready"
    # Small messages first: they are written directly until the pipe is full, then
    # queued for the feeder. Nothing is read on the other side; no tell() may wait.
    slowest = 0.0
    for i in range(3000):  # ~3000 x 150 bytes: more than a pipe holds
        started = time.monotonic()
        p.tell((i, b"s" * 100))
        slowest = max(slowest, time.monotonic() - started)
    for _ in range(20):  # and large ones, straight to the feeder
        started = time.monotonic()
        p.tell(b"L" * 200_000)
        slowest = max(slowest, time.monotonic() - started)
    assert slowest < PROMPT
    handle = p._skprocess_internals.handle
    name = f"suitkaise-tell:{type(p).__qualname__}"
    feeders = [t for t in threading.enumerate() if t.name == name]
    assert len(feeders) == 1  # one thread for the channel, not one per tell()
    p.stop()
    p.wait(timeout=TIMEOUT)
    assert handle._sender is None  # the channel was closed with the process
    deadline = time.monotonic() + TIMEOUT
    while any(t.is_alive() for t in feeders) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(t.is_alive() for t in feeders)  # and its feeder went with it


@pytest.mark.usefixtures("start_method")
def test_child_tell_returns_at_once_and_uses_one_feeder():
    # 400 x 64 KiB: far more than the pipe holds while the parent does not read.
    p = Mouth(count=400, size=64 * 1024)
    p.start()
    slowest, feeders = p.result()
    assert slowest < PROMPT
    assert feeders == 1
    received = [p.listen(timeout=TIMEOUT) for _ in range(400)]
    assert [i for i, _ in received] == list(range(400))
    assert p.listen(timeout=TIMEOUT) is None


def test_small_messages_to_a_reader_that_keeps_up_start_no_thread():
    p = Echo()
    p.start()
    before = {t.name for t in threading.enumerate()}
    for i in range(200):
        p.tell(i)
        assert p.listen(timeout=TIMEOUT) == i
    started = {t.name for t in threading.enumerate()} - before
    assert not any(name.startswith("suitkaise-tell") for name in started)
    p.tell("bye")
    p.wait(timeout=TIMEOUT)


# ------------------------------------------------------------------ the pieces alone


@pytest.fixture
def pipe():
    """A multiprocessing pipe: (reading Connection, writing Connection)."""
    import multiprocessing

    r, w = multiprocessing.Pipe(duplex=False)
    yield r, w
    r.close()
    w.close()


@pytest.fixture
def ends():
    """One direction of a tell/listen channel: (the child's reading end, the parent's
    writing end); the other two ends are closed, so closing the reader is the reader
    gone."""
    import multiprocessing

    parent_in, parent_out, child_in, child_out = _channel.channel(multiprocessing.get_context())
    parent_in.close()
    child_out.close()
    yield child_in, parent_out
    child_in.close()
    parent_out.close()


def test_sender_keeps_order_when_the_pipe_fills(ends):
    r, w = ends
    sender = _channel.Sender(w, "test")
    receiver = _channel.Receiver(r)
    messages = [(i, b"x" * (i * 37 % 9000)) for i in range(2000)]
    for message in messages:  # the pipe fills long before the end: no one reads yet
        sender.send(message)
    got = [_channel.decode(receiver.recv(reuse=True)) for _ in messages]
    assert got == messages
    assert sender.flush(timeout=TIMEOUT)
    sender.close()


def test_receiver_reads_what_multiprocessing_writes(pipe):
    # The framing is multiprocessing's: a Connection's send_bytes reaches a Receiver
    # whole, however the bytes arrive (several messages in one read, or one in many).
    r, w = pipe
    receiver = _channel.Receiver(r)
    payloads = [os.urandom(n) for n in (0, 3, 4096, 5000, 70_000, 2_000_000, 10)]
    writer = threading.Thread(target=lambda: [w.send_bytes(p) for p in payloads])
    writer.start()
    for payload in payloads:
        assert bytes(receiver.recv()) == payload
    writer.join(TIMEOUT)
    w.close()
    assert receiver.readable(TIMEOUT)  # EOF counts as readable
    with pytest.raises(EOFError):
        receiver.recv()


@pytest.mark.skipif(not hasattr(select, "poll"), reason="watching needs poll()")
@pytest.mark.parametrize("size", [1000, 70_000, 5_000_000], ids=lambda n: f"{n}B")
@pytest.mark.parametrize("cut", ["in the head", "in the body"])
def test_a_message_cut_short_ends_when_the_writer_has_exited(pipe, size, cut):
    # The writer's end stays open (as when a process the writer started keeps a copy),
    # so no EOF comes; the writer's exit descriptor tells that the rest never will.
    r, w = pipe
    receiver = _channel.Receiver(r)
    exit_r, exit_w = os.pipe()
    head = struct.pack("!i", size)
    part = head[:2] if cut == "in the head" else head + b"x" * (size // 2)
    got: list[BaseException] = []

    def read() -> None:
        try:
            receiver.recv()
        except BaseException as error:
            got.append(error)

    try:
        receiver.watch(exit_r)
        writer = threading.Thread(target=os.write, args=(w.fileno(), part))
        writer.start()
        assert receiver.readable(TIMEOUT)
        reader = threading.Thread(target=read)
        reader.start()
        writer.join(TIMEOUT)  # (the reader takes what does not fit in the pipe)
        assert not writer.is_alive()
        os.write(exit_w, b"x")  # then the writer exits
        reader.join(TIMEOUT)
        assert not reader.is_alive()
        assert len(got) == 1 and isinstance(got[0], EOFError), got
    finally:
        receiver.unwatch()
        os.close(exit_r)
        os.close(exit_w)


def test_a_watched_message_that_arrives_whole_is_read_whole(pipe):
    r, w = pipe
    receiver = _channel.Receiver(r)
    exit_r, exit_w = os.pipe()
    try:
        receiver.watch(exit_r)
        payload = os.urandom(3_000_000)
        writer = threading.Thread(target=w.send_bytes, args=(payload,))
        writer.start()
        assert bytes(receiver.recv()) == payload
        writer.join(TIMEOUT)
        w.send_bytes(b"last")
        os.write(exit_w, b"x")  # the writer exits after writing: what it wrote is read
        assert bytes(receiver.recv()) == b"last"
    finally:
        receiver.unwatch()
        os.close(exit_r)
        os.close(exit_w)


def test_sender_drops_messages_once_the_reader_is_gone(ends):
    r, w = ends
    sender = _channel.Sender(w, "test")
    r.close()
    sender.send(b"x" * 10)  # no reader: dropped, no error
    sender.send(b"y" * 500_000)
    assert sender.flush(timeout=TIMEOUT)


@pytest.mark.skipif(not hasattr(select, "poll"), reason="the direct path needs poll()")
def test_direct_limit_fits_one_atomic_pipe_write():
    assert DIRECT + 4 == select.PIPE_BUF


class ListensInAThread(Skprocess):
    """A thread waits in listen() while __run__ tells for the first time."""

    def __init__(self):
        self.process_config.runs = 1

    def __run__(self):
        got = []
        waiting = threading.Event()

        def listener():
            waiting.set()
            got.append(self.listen(timeout=TIMEOUT))

        thread = threading.Thread(target=listener)
        thread.start()
        waiting.wait(TIMEOUT)
        child = self._skprocess_internals.child
        deadline = time.monotonic() + TIMEOUT
        while not child._recv_lock.locked() and time.monotonic() < deadline:
            time.sleep(0.001)  # until the listener is inside listen()
        self.tell("ping")  # must not wait for the listener
        thread.join(TIMEOUT)
        self.got = got

    def __result__(self):
        return self.got


@pytest.mark.usefixtures("start_method")
def test_a_first_tell_does_not_wait_for_a_listener_in_another_thread():
    p = ListensInAThread()
    p.start()
    assert p.listen(timeout=TIMEOUT) == "ping"
    p.tell("pong")
    assert p.result() == ["pong"]


# ------------------------------------------------------------------ message encoding


class Colour(str):
    """A str subclass: not plain, so cerial keeps its class."""


class Small(enum.IntEnum):
    """An int subclass: not plain either."""

    ONE = 1
    TWO = 2


PLAIN_VALUES = [
    0, -(10**40), 1.5, float("inf"), "", "héllo", True, None, b"", b"\x00" * 100,
    (1, "a", None), [1.0, b"x"], {"a": 1, 2: None}, tuple(range(16)),
]
NOT_PLAIN = [
    tuple(range(17)),  # too long to check item by item
    ((1, 2), 3),  # nested
    {"k": [1]},
    Colour("red"),
    bytearray(b"ab"),
]


@pytest.mark.parametrize("value", PLAIN_VALUES, ids=repr)
def test_plain_values_skip_cerial_and_round_trip(value):
    kind, body = _channel.encode(value)
    assert kind == (b"\x02" if type(value) is bytes else b"\x01")
    back = _channel.decode(kind + bytes(body))
    assert back == value and type(back) is type(value)


@pytest.mark.parametrize("value", NOT_PLAIN, ids=repr)
def test_other_values_go_through_cerial(value):
    kind, body = _channel.encode(value)
    assert kind == b"\x00" and bytes(body[:4]) == b"SKCL"
    back = _channel.decode(kind + bytes(body))
    assert back == value and type(back) is type(value)


def test_bytes_are_sent_as_they_are_and_decoded_into_their_own_memory():
    blob = os.urandom(100_000)
    kind, body = _channel.encode(blob)
    assert body is blob  # no copy on the way out
    buffer = bytearray(kind + blob)
    back = _channel.decode(memoryview(buffer))
    buffer[1:] = bytes(len(blob))  # the receiver reuses its buffer for the next message
    assert back == blob and type(back) is bytes


def test_long_messages_get_multiprocessings_long_head():
    assert _channel._head(10) == (10).to_bytes(4, "big")
    assert _channel._head(2**31) == b"\xff\xff\xff\xff" + (2**31).to_bytes(8, "big")


def test_write_all_writes_every_part_in_order(pipe):
    r, w = pipe
    parts = [b"head", os.urandom(300_000), b"", b"tail"]
    writer = threading.Thread(target=_channel._write_all, args=(w.fileno(), parts))
    writer.start()
    expected = b"".join(parts)
    got = bytearray()
    while len(got) < len(expected):
        got += os.read(r.fileno(), 65536)
    writer.join(TIMEOUT)
    assert bytes(got) == expected


class _ShortSocket(socket.socket):
    """Its first send takes only 5 bytes (a socket should take a small message whole)."""

    cut: list[int]

    def send(self, data, flags=0):
        if not self.cut:
            self.cut.append(len(data))
            return super().send(bytes(data[:5]), flags)
        return super().send(data, flags)


@pytest.mark.skipif(not hasattr(socket, "MSG_DONTWAIT"), reason="POSIX direct writes")
def test_a_direct_write_cut_short_leaves_the_rest_to_the_feeder(ends):
    r, w = ends
    short = _ShortSocket(fileno=w.detach())
    short.cut = []
    sender = _channel.Sender(short, "test")
    receiver = _channel.Receiver(r)
    sender.send("first")
    sender.send(("second", 2))
    assert short.cut and sender.flush(timeout=TIMEOUT)
    assert [_channel.decode(receiver.recv()) for _ in range(2)] == ["first", ("second", 2)]
    sender.close(close_conn=True)


def test_the_channel_is_one_socket_pair_both_ways_and_stays_blocking():
    import multiprocessing

    parent_in, parent_out, child_in, child_out = _channel.channel(multiprocessing.get_context())
    try:
        if hasattr(socket, "MSG_DONTWAIT"):
            for end in (parent_in, child_in):
                assert os.get_blocking(end.fileno())  # the reader blocks; senders use DONTWAIT
            assert os.path.sameopenfile(parent_in.fileno(), parent_out.fileno())
            assert os.path.sameopenfile(child_in.fileno(), child_out.fileno())
        parent_sender = _channel.Sender(parent_out, "parent")
        child_sender = _channel.Sender(child_out, "child")
        parent_sender.send("down")
        child_sender.send(("up", 1))
        assert _channel.Receiver(child_in).get() == "down"
        assert _channel.Receiver(parent_in).get() == ("up", 1)
    finally:
        for end in (parent_in, parent_out, child_in, child_out):
            end.close()


def test_the_channel_ignores_a_default_socket_timeout():
    import multiprocessing

    socket.setdefaulttimeout(0.5)
    try:
        ends = _channel.channel(multiprocessing.get_context())
    finally:
        socket.setdefaulttimeout(None)
    try:
        assert all(os.get_blocking(end.fileno()) for end in ends)
    finally:
        for end in ends:
            end.close()


@pytest.mark.usefixtures("start_method")
def test_every_kind_of_message_keeps_its_value_and_type_through_a_process():
    messages = [
        7, True, None, "s", b"raw", os.urandom(200_000), (1, "a"), [b"x", 2.5], {"k": None},
        Colour("blue"), Small.TWO, ((1,), [2]), bytearray(b"ba"),
        tuple(range(40)),
    ]
    p = Echo()
    p.start()
    for message in messages:
        p.tell(message)
    back = [p.listen(timeout=TIMEOUT) for _ in messages]
    p.tell("bye")
    p.wait(timeout=TIMEOUT)
    assert back == messages
    assert [type(m) for m in back] == [type(m) for m in messages]


DEFAULT_TIMEOUT_SCRIPT = """
import socket, sys
socket.setdefaulttimeout(5)  # in the main module: a spawn child runs it too
from suitkaise.processing import Skprocess, set_start_method

class TellsMany(Skprocess):
    def __init__(self, count, size):
        self.count, self.size = count, size
        self.process_config.runs = 1

    def __run__(self):
        for _ in range(self.count):
            self.tell(b"x" * self.size)

if __name__ == "__main__":
    set_start_method(sys.argv[1])
    p = TellsMany(300, 100_000)
    p.start()
    got = 0
    while p.listen(timeout=10) is not None:
        got += 1
        if got == 300:
            break
    p.wait(timeout=10)
    print(got)
"""


def test_a_default_socket_timeout_in_the_main_module_loses_no_message(tmp_path, start_method):
    from process_probes import run_script

    proc = run_script(tmp_path / "main.py", DEFAULT_TIMEOUT_SCRIPT, start_method)
    out, err = proc.communicate(timeout=TIMEOUT * 3)
    assert proc.returncode == 0, err
    assert out.split() == ["300"]


class TellsLate(Skprocess):
    def __init__(self):
        self.process_config.runs = 1

    def __run__(self):
        self.listen(timeout=TIMEOUT)
        time.sleep(0.5)
        self.tell("late")


def test_listen_without_read_waits_polls_instead_of_spinning(monkeypatch):
    from suitkaise.processing import _handle

    monkeypatch.setattr(_handle, "WAITS_IN_READ", False)  # as on macOS and the BSDs
    p = TellsLate()
    p.start()
    p.tell("go")
    cpu = time.process_time()
    assert p.listen() == "late"
    assert time.process_time() - cpu < 0.2  # it waited 0.5 s without burning it
    p.wait(timeout=TIMEOUT)
