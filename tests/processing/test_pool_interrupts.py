"""interrupts_held(): a SIGINT in the main thread waits for the end of the block, then
reaches the handler that was in place; nothing changes elsewhere. And a Ctrl-C landing
inside the pool's own bookkeeping leaves no call hanging and no task running."""

from __future__ import annotations

import gc
import os
import signal
import threading
import time

import pytest
from _support import TIMEOUT
from test_pool_support import make_pool, wait_for

from suitkaise.processing import _interrupts
from suitkaise.processing._interrupts import interrupts_held
from suitkaise.processing._pool._job import Job


@pytest.fixture
def own_handler():
    calls: list[int] = []

    def handler(signum, frame):
        calls.append(signum)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield handler, calls
    finally:
        signal.signal(signal.SIGINT, previous)


def test_the_handler_runs_once_after_the_block(own_handler):
    handler, calls = own_handler
    with interrupts_held():
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)
        assert calls == []
    assert calls == [signal.SIGINT]
    assert signal.getsignal(signal.SIGINT) is handler


def test_a_keyboard_interrupt_is_raised_as_the_block_ends():
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    done = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_held():
            signal.raise_signal(signal.SIGINT)
            done.append(True)
    assert done == [True]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_no_signal_no_call(own_handler):
    handler, calls = own_handler
    with interrupts_held():
        pass
    assert calls == [] and signal.getsignal(signal.SIGINT) is handler


def test_an_ignored_sigint_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with interrupts_held():
            assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
            signal.raise_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)


def test_other_threads_change_nothing(own_handler):
    handler, _calls = own_handler
    seen: list[object] = []

    def other() -> None:
        with interrupts_held():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(TIMEOUT)
    assert seen == [handler]


class _SwapThenRaise:
    """``_signal`` whose first swap to a noting handler goes through and then raises,
    as another signal's handler would at the check right after the call."""

    def __init__(self, real):
        self.real = real
        self.armed = True

    def getsignal(self, signum):
        return self.real.getsignal(signum)

    def signal(self, signum, handler):
        previous = self.real.signal(signum, handler)
        if self.armed and getattr(handler, "__name__", "") == "_note":
            self.armed = False
            raise TimeoutError("another signal's handler")
        return previous


def test_a_handler_raising_as_the_block_opens_leaves_sigint_as_it_was(monkeypatch):
    monkeypatch.setattr(_interrupts, "_handlers", _SwapThenRaise(_interrupts._handlers))
    with pytest.raises(TimeoutError):
        with interrupts_held():
            pytest.fail("the block ran")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)


def test_a_noting_handler_left_behind_passes_sigint_on():
    held = interrupts_held()
    with held:
        pass
    signal.signal(signal.SIGINT, held._note)  # as if it were still installed after its block
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_where_handlers_cannot_be_set_nothing_is_held(monkeypatch):
    class NoSignals:  # a subinterpreter: signal() raises ValueError
        def getsignal(self, signum):
            return signal.default_int_handler

        def signal(self, signum, handler):
            raise ValueError("signal only works in main thread of the main interpreter")

    monkeypatch.setattr(_interrupts, "_handlers", NoSignals())
    with interrupts_held():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _sigint_in_a_forked_child(write_end: int) -> None:
    """Fork a child that sends itself SIGINT and writes what became of it."""
    pid = os.fork()
    if pid == 0:
        try:
            signal.raise_signal(signal.SIGINT)
            os.write(write_end, b"ignored")
        except KeyboardInterrupt:
            os.write(write_end, b"raised")
        os._exit(0)
    os.waitpid(pid, 0)


def test_a_child_forked_during_a_block_gets_the_handler_back():
    read_end, write_end = os.pipe()
    try:
        with interrupts_held():
            thread = threading.Thread(target=_sigint_in_a_forked_child, args=(write_end,))
            thread.start()
            thread.join(TIMEOUT)
        assert os.read(read_end, 16) == b"raised"
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_child_forked_as_a_block_opens_gets_the_handler_back():
    held = interrupts_held()
    held.active = True  # the noting handler is in place, the block not yet entered
    signal.signal(signal.SIGINT, held._note)
    read_end, write_end = os.pipe()
    try:
        _sigint_in_a_forked_child(write_end)
        assert os.read(read_end, 16) == b"raised"
    finally:
        held.active = False
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.close(read_end)
        os.close(write_end)


# ------------------------------------------------------- Ctrl-C inside the pool's calls


def double(x):
    return x * 2


def slow_when_told(path):
    with open(path, "w"):
        pass
    time.sleep(TIMEOUT * 2)


class _InterruptingSocket:
    """The wake-up socket: a SIGINT comes just before each byte is written."""

    def __init__(self, real):
        self.real = real

    def send(self, data):
        signal.raise_signal(signal.SIGINT)
        return self.real.send(data)


def test_ctrl_c_while_close_wakes_the_dispatcher_still_lets_join_end():
    pool = make_pool(workers=1)
    try:
        assert pool.map(double, range(4)) == [0, 2, 4, 6]
        backend = pool._backend
        real = backend._wake_w
        backend._wake_w = _InterruptingSocket(real)
        try:
            with pytest.raises(KeyboardInterrupt):
                pool.close()
        finally:
            backend._wake_w = real
        assert pool.join(TIMEOUT)
    finally:
        pool.terminate()


def test_ctrl_c_as_an_imap_ends_still_ends_its_call(monkeypatch):
    pool = make_pool(workers=1)
    real_cancel = Job.cancel
    armed = [True]

    def cancel(self, **kwargs):
        if armed[0] and threading.current_thread() is threading.main_thread():
            armed[0] = False
            signal.raise_signal(signal.SIGINT)
        return real_cancel(self, **kwargs)

    try:
        monkeypatch.setattr(Job, "cancel", cancel)
        with pytest.raises(KeyboardInterrupt):
            for _ in pool.imap(double, range(100)):
                pass
        monkeypatch.undo()
        gc.collect()
        pool.close()
        assert pool.join(TIMEOUT), "the interrupted call was never ended"
    finally:
        pool.terminate()


def test_a_second_ctrl_c_while_a_call_is_cancelled_still_stops_its_task(tmp_path):
    pool = make_pool(workers=1)
    backend = pool._backend
    real_wake = backend.wake
    armed = [True]

    def wake() -> None:
        if armed[0] and threading.current_thread() is threading.main_thread():
            armed[0] = False
            signal.raise_signal(signal.SIGINT)  # the second Ctrl-C, just before the wake
        real_wake()

    go = tmp_path / "running"

    def interrupt_once_running() -> None:
        assert wait_for(go.exists)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    try:
        assert pool.map(double, range(2)) == [0, 2]
        backend.wake = wake  # (a Job takes its wake() when it is made)
        interrupter = threading.Thread(target=interrupt_once_running, daemon=True)
        interrupter.start()
        with pytest.raises(KeyboardInterrupt):
            pool.map(slow_when_told, [str(go)])
        interrupter.join(TIMEOUT)
        backend.wake = real_wake
        # the task (sleeping twice TIMEOUT) was stopped: the next call does not wait for it
        future = pool.map.background()(double, range(4))
        assert future.result(TIMEOUT) == [0, 2, 4, 6]
    finally:
        pool.terminate()
