"""_forkclose: registered ends are closed in every forked child, but where kept."""

from __future__ import annotations

import gc
import os
import socket
import threading
from collections.abc import Iterator

import pytest
from _support import TIMEOUT

from suitkaise.processing import _forkclose

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _in_forked_child(check) -> int:
    """Fork; the child exits with check()'s number. Returns that number."""
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            code = check()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _closed_count(*socks: socket.socket) -> int:
    return sum(s.fileno() == -1 for s in socks)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A socket pair, forgotten by _forkclose and closed after the test."""
    a, b = socket.socketpair()
    try:
        yield a, b
    finally:
        _forkclose.forget(a, b)
        a.close()
        b.close()


def test_registered_ends_are_closed_in_a_forked_child_only(pair):
    a, b = pair
    _forkclose.close_in_children(a, b)
    assert _in_forked_child(lambda: _closed_count(a, b)) == 2
    assert _closed_count(a, b) == 0  # the parent keeps them


def test_kept_for_the_forking_thread_only(pair):
    a, b = pair
    results: list[int] = []
    _forkclose.close_in_children(a, keep_for=threading.get_ident())
    _forkclose.close_in_children(b)
    assert _in_forked_child(lambda: 10 * _closed_count(a) + _closed_count(b)) == 1
    # Forked by another thread: the end kept for this one is closed there.
    other = threading.Thread(target=lambda: results.append(
        _in_forked_child(lambda: 10 * _closed_count(a) + _closed_count(b))))
    other.start()
    other.join(TIMEOUT)
    assert results == [11]


def test_forgotten_and_collected_ends_are_left_alone(pair):
    a, b = pair
    _forkclose.close_in_children(a, b)
    _forkclose.forget(a)
    assert _in_forked_child(lambda: 10 * _closed_count(a) + _closed_count(b)) == 1
    c, d = socket.socketpair()
    _forkclose.close_in_children(c)
    count = len(_forkclose._ends)
    c.close()
    del c
    gc.collect()
    assert len(_forkclose._ends) == count - 1
    d.close()
