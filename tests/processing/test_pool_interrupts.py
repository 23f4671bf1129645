"""interrupts_held(): a SIGINT in the main thread waits for the end of the block, then
reaches the handler that was in place; nothing changes elsewhere."""

from __future__ import annotations

import signal
import threading

import pytest
from _support import TIMEOUT

from suitkaise.processing._pool._interrupts import interrupts_held


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
