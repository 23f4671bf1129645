"""Faults a Share must survive: a peer that stalls the handshake, stops reading or
sends malformed messages; shared methods raising SystemExit; a killed coordinator;
an owner that is a plain multiprocessing child; an application's default socket
timeout; a Python version whose bytecode the Share does not know."""

from __future__ import annotations

import os
import select
import socket
import sys
import threading
import types

import pytest
from _support import TIMEOUT
from test_share_support import (
    Big,
    Quitter,
    Slow,
    add_many,
    ctx,
    has_inode,
    join_all,
    make_share_and_return,
    run_script,
    start_all,
)

from suitkaise.processing._share import (
    CoordinatorDiedError,
    Share,
    ShareError,
    _coordinator,
    _handshake,
    _ops,
)
from suitkaise.processing._share._client import Link, _closed
from suitkaise.processing._share._protocol import ACK, BYE, CALL, GET, IOP, OK, SET, frame

BIG = 32 << 20  # far more than a socket buffer holds
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="Linux /proc, POLLRDHUP"
)


@pytest.fixture
def share():
    s = Share()
    try:
        yield s
    finally:
        s.exit()


def _wait_readable(sock: socket.socket) -> None:
    assert select.select([sock], [], [], TIMEOUT)[0], "nothing came"


def _wait_closed_by_peer(sock: socket.socket) -> None:
    poller = select.poll()
    poller.register(sock, select.POLLRDHUP)
    events = poller.poll(TIMEOUT * 1000)
    assert events and events[0][1] & select.POLLRDHUP, "the coordinator kept the connection"


# ---------------------------------------------------------------- the handshake


def test_a_silent_connection_delays_nobody(start_method, share):
    share.counter = 0
    with socket.socket(socket.AF_UNIX) as silent:
        silent.connect(share._sk_address)  # connects, never answers the challenge
        join_all(start_all(add_many, [(share, 10)]))
    assert share.counter == 10


@pytest.mark.parametrize("start_method", ["fork"], indirect=True)
def test_a_silent_connection_is_closed_after_the_handshake_timeout(start_method, monkeypatch):
    monkeypatch.setattr(_handshake, "HANDSHAKE_TIMEOUT", 0.5)  # the forked coordinator's too
    share = Share()
    try:
        with socket.socket(socket.AF_UNIX) as silent:
            silent.settimeout(TIMEOUT)
            silent.connect(share._sk_address)
            received = b""
            while chunk := silent.recv(4096):  # the challenge, then EOF
                received += chunk
            assert b"#CHALLENGE#" in received
        share.x = 1
        assert share.x == 1
    finally:
        share.exit()


def test_connecting_to_a_listener_that_never_answers_fails_in_bounded_time(tmp_path, monkeypatch):
    monkeypatch.setattr(_handshake, "CONNECT_TIMEOUT", 0.2)
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        server.listen()
        with pytest.raises(ShareError, match="within"):
            Link(path, os.urandom(32), lambda pid: True)


# ---------------------------------------------------------------- a client that stops reading


def _ask_for_a_big_reply(share: Share) -> Link:
    """Send a call whose reply fills the socket, and read none of it."""
    share.big = Big()
    link = share._sk_link()
    assert link.sock is not None
    link.sock.sendall(frame((CALL, ("big",), "blob", (BIG,))))
    _wait_readable(link.sock)  # the coordinator is sending the reply now
    return link


def test_a_client_that_stops_reading_holds_up_nobody(start_method, share):
    share.counter = 0
    _ask_for_a_big_reply(share)
    join_all(start_all(add_many, [(share, 10)]))
    share._sk_drop_link()  # the reply in flight is for this connection: start afresh
    assert share.counter == 10


@linux_only
@pytest.mark.parametrize("start_method", ["fork"], indirect=True)
def test_a_client_that_takes_nothing_of_its_reply_is_dropped(start_method, monkeypatch):
    monkeypatch.setattr(_coordinator, "REPLY_TIMEOUT", 0.3)  # the forked coordinator's too
    share = Share()
    try:
        link = _ask_for_a_big_reply(share)
        assert link.sock is not None
        _wait_closed_by_peer(link.sock)
        share._sk_drop_link()
        share.x = 1
        assert share.x == 1
    finally:
        share.exit()


def test_exit_returns_objects_larger_than_a_socket_buffer(share):
    share.data = b"y" * BIG
    share.exit()
    assert len(share.data) == BIG
    share.start()


@linux_only
@pytest.mark.parametrize("start_method", ["fork"], indirect=True)
def test_a_forked_child_does_not_keep_the_connection(start_method, share):
    share.x = 1
    link = share._sk_link()
    assert link.sock is not None
    proc = ctx().Process(target=has_inode, args=(os.fstat(link.sock.fileno()).st_ino,))
    proc.start()
    proc.join(TIMEOUT)
    assert proc.exitcode == 0, "the forked child holds a copy of the owner's connection"


# ---------------------------------------------------------------- what user code raises


def test_a_method_raising_system_exit_ends_nothing(share):
    share.q = Quitter()
    share.n = 1
    with pytest.raises(SystemExit):
        share.q.quit()
    with pytest.raises(GeneratorExit):
        share.q.generator_exit()
    share.q.gone = 5  # a write: its SystemExit comes back with the next request
    with pytest.raises(SystemExit) as info:
        share._sk_sync()
    assert "share.q.gone = ..." in "".join(info.value.__notes__)
    assert share.n == 1
    assert share._sk_runtime.process.is_alive()


def test_a_crash_goodbye_says_so():
    error = _closed((BYE, 0, "crash"), 0, answered=True)
    assert isinstance(error, CoordinatorDiedError)
    assert "crashed" in str(error)
    assert "exit()" not in str(error)


# ---------------------------------------------------------------- malformed messages


@pytest.mark.parametrize("message", [
    5, (), "text", ([1],), (ACK, "x"), (ACK, -1), (GET,), (99, 1), (SET, "x", 1, 2),
], ids=repr)
def test_a_malformed_message_drops_only_its_sender(share, message):
    share.x = 1
    other = Link(share._sk_address, share._sk_authkey, lambda pid: True)
    try:
        link = share._sk_link()
        assert link.sock is not None
        link.sock.sendall(frame(message))
        link.sock.settimeout(TIMEOUT)
        assert link.sock.recv(1) == b""  # dropped, without a word
        share._sk_drop_link()
        assert other.call((GET, "x")) == (OK, 1)
        assert share.x == 1
    finally:
        other.close()


def test_a_write_with_a_malformed_path_is_reported_to_its_sender(share):
    share.x = 1
    share._sk_link().write((IOP, ("x", "not a step"), "+=", 1))
    with pytest.raises(ValueError):
        share._sk_sync()
    assert share.x == 1


# ---------------------------------------------------------------- a killed coordinator


def test_a_killed_coordinator_is_reported_as_dead(start_method, share):
    share.x = 1
    process = share._sk_runtime.process
    process.kill()
    process.join(TIMEOUT)
    errors: list[BaseException] = []

    def read() -> None:
        try:
            share.x  # noqa: B018 - a new connection, from a new thread
        except BaseException as exc:  # noqa: BLE001 - the error is the result
            errors.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(TIMEOUT)
    assert len(errors) == 1 and isinstance(errors[0], CoordinatorDiedError)
    assert "died" in str(errors[0]) and "called exit()" not in str(errors[0])
    with pytest.raises(CoordinatorDiedError, match=r"call exit\(\)"):
        share.start()
    with pytest.raises(CoordinatorDiedError):
        share.exit()
    share.start()  # empty: the objects died with the coordinator
    share.x = 2
    assert share.x == 2


# ---------------------------------------------------------------- owners and environments


def test_a_multiprocessing_child_that_creates_a_share_ends(start_method):
    join_all([_started(ctx().Process(target=make_share_and_return))])


def _started(proc):
    proc.start()
    return proc


def test_a_default_socket_timeout_does_not_reach_the_share(start_method):
    # Under fork the coordinator inherits it too; forkserver's own socket cannot take it.
    before = start_method == "fork"
    old = socket.getdefaulttimeout()
    try:
        if before:
            socket.setdefaulttimeout(0.05)
        share = Share()
        try:
            socket.setdefaulttimeout(0.05)
            share.slow = Slow()
            share.slow.pause(0.3)  # longer than the default timeout
            share.x = 1
            assert share.x == 1
        finally:
            share.exit()
    finally:
        socket.setdefaulttimeout(old)


DIRECTORY_SCRIPT = """
    from suitkaise.processing._share import Share

    if __name__ == "__main__":
        share = Share()
        share.x = 1
        share.exit()
        print(share._sk_runtime.directory, flush=True)
"""


def test_the_socket_directory_is_removed_at_exit_after_exit(tmp_path):
    proc = run_script(tmp_path / "owner.py", DIRECTORY_SCRIPT)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err
    directory = out.split()[0]
    assert directory.startswith("/") and not os.path.exists(directory)


def test_augmented_assignment_on_an_unknown_python_refuses(share, monkeypatch):
    share.counter = 1
    share.d = {"k": 1}
    share.ns = types.SimpleNamespace(v=1)
    monkeypatch.setattr(_ops, "_SUPPORTED", False)  # as on a Python newer than 3.13
    with pytest.raises(ShareError, match="not atomic"):
        share.counter += 1
    with pytest.raises(ShareError, match="not atomic"):
        share.d["k"] += 1
    with pytest.raises(ShareError, match="not atomic"):
        share.ns.v += 1
    share.counter = 5  # plain writes still work
    share.d["k"] = 5
    share.ns.v = share.ns.v + 1  # an explicit read and write: the user's choice
    assert (share.counter, share.d["k"], share.ns.v) == (5, 5, 2)
