"""Ctrl-C in the middle of a parent-side Skprocess or Share call: the object goes on
working afterwards (or is cleanly closed); never a hang, a lost child or a reply meant
for another request.

A Ctrl-C is made to land at an exact point by having something that runs there call
``signal.raise_signal(SIGINT)``: the default handler raises KeyboardInterrupt right
there, as a real Ctrl-C between two bytecodes does.
"""

from __future__ import annotations

import inspect
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from _support import TIMEOUT
from process_probes import wait_gone

from suitkaise import cerial
from suitkaise.processing import Share, Skprocess, _channel, _handle, _process
from suitkaise.processing._share._client import Link

LARGE = bytes(range(256)) * (8 * 1024 * 1024 // 256)  # 8 MB: read in many calls


class TellsALargeMessage(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 1

    def __run__(self) -> None:
        self.tell(LARGE)
        self.tell("next")


class ReturnsALot(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 1

    def __run__(self) -> None:
        self.data = list(range(200_000))

    def __result__(self) -> list[int]:
        return self.data


class Waits(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 1

    def __run__(self) -> None:
        self.listen(timeout=TIMEOUT)


def interrupt_on_call(calls: int):
    """A wrapper maker: the *calls*-th call made from the main thread gets a SIGINT first."""
    count = [0]

    def wrap(real):
        def wrapper(*args, **kwargs):
            if threading.current_thread() is threading.main_thread():
                count[0] += 1
                if count[0] == calls:
                    signal.raise_signal(signal.SIGINT)
            return real(*args, **kwargs)
        return wrapper

    return wrap


@contextmanager
def interrupt_before_line(function, text: str) -> Iterator[list[bool]]:
    """SIGINT just before the first line of *function* that holds *text* runs (a line
    tracer; only this thread). Yields a list that holds True once it fired."""
    lines, first = inspect.getsourcelines(function)
    matches = [first + i for i, line in enumerate(lines) if text in line]
    assert matches, f"{text!r} is not in {function.__qualname__}"
    target, code = matches[0], function.__code__
    fired: list[bool] = []

    def local(frame, event, arg):
        if not fired and event == "line" and frame.f_lineno == target:
            fired.append(True)
            signal.raise_signal(signal.SIGINT)
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code is code and not fired else None

    sys.settrace(tracer)
    try:
        yield fired
    finally:
        sys.settrace(None)


def interrupt_after_call(calls: int):
    """Like interrupt_on_call, but the SIGINT comes as the call returns (what it did,
    a read say, is done: only the caller's note of it can be lost)."""
    count = [0]

    def wrap(real):
        def wrapper(*args, **kwargs):
            result = real(*args, **kwargs)
            if threading.current_thread() is threading.main_thread():
                count[0] += 1
                if count[0] == calls:
                    signal.raise_signal(signal.SIGINT)
            return result
        return wrapper

    return wrap


@pytest.mark.parametrize("where", ["before a read", "as a read returns", "as its buffer is made",
                                   "as its buffer takes what came", "twice", "while it decodes"])
def test_a_listen_cut_short_in_a_large_message_goes_on_with_it(monkeypatch, where):
    p = TellsALargeMessage()
    p.start()
    try:
        if where == "before a read":
            monkeypatch.setattr(os, "readv", interrupt_on_call(3)(os.readv))
        elif where == "as a read returns":
            monkeypatch.setattr(os, "readv", interrupt_after_call(3)(os.readv))
        elif where == "as its buffer is made":
            monkeypatch.setattr(_channel, "bytearray", interrupt_after_call(1)(bytearray),
                                raising=False)
        elif where == "while it decodes":
            monkeypatch.setattr(_channel, "decode", interrupt_on_call(1)(_channel.decode))
        else:
            if where == "twice":  # the second Ctrl-C while it keeps what came
                monkeypatch.setattr(os, "readv", interrupt_on_call(3)(os.readv))
                line = "self._rest = data[:start] + bytes(view[:got[0]])"
            else:
                line = "got[0] = len(data) - start"
            with interrupt_before_line(_channel.Receiver.recv, line) as fired:
                with pytest.raises(KeyboardInterrupt):
                    p.listen(timeout=TIMEOUT)
            assert fired
        if where not in ("twice", "as its buffer takes what came"):
            with pytest.raises(KeyboardInterrupt):
                p.listen(timeout=TIMEOUT)
        monkeypatch.undo()
        assert p.listen(timeout=TIMEOUT) == LARGE
        assert p.listen(timeout=TIMEOUT) == "next"
        assert p.wait(TIMEOUT)
    finally:
        p.kill()


class AnswersWhenAsked(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 1

    def __run__(self) -> None:
        self.listen(timeout=TIMEOUT)
        self.tell("answer")


@pytest.mark.parametrize("timeout", [None, TIMEOUT])
def test_a_ctrl_c_as_a_small_message_is_read_keeps_it(monkeypatch, timeout):
    p = AnswersWhenAsked()
    p.start()
    try:
        monkeypatch.setattr(os, "read", interrupt_after_call(1)(os.read))
        p.tell("ask")
        with pytest.raises(KeyboardInterrupt):
            p.listen(timeout=timeout)
        monkeypatch.undo()
        assert p.listen(timeout=TIMEOUT) == "answer"
        assert p.wait(TIMEOUT)
    finally:
        p.kill()


def test_a_ctrl_c_after_a_message_is_taken_for_a_listener_keeps_it():
    p = AnswersWhenAsked()
    p.start()
    try:
        p.tell("ask")
        assert p._skprocess_internals.handle._tell_rx.readable(TIMEOUT)  # the answer is here
        listen = _handle.ParentHandle.listen
        with interrupt_before_line(listen, "(_pumped, inline)") as fired:
            with pytest.raises(KeyboardInterrupt):
                p.listen(timeout=TIMEOUT)  # takes the answer, and is cut short on its way out
        assert fired
        assert p.listen(timeout=TIMEOUT) == "answer"
        assert p.wait(TIMEOUT)
    finally:
        p.kill()


class TellsTwoAndWaits(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 1

    def __run__(self) -> None:
        self.tell(["first"])
        self.tell("second")
        self.listen(timeout=TIMEOUT)


def test_a_listen_cut_short_while_it_decodes_a_queued_message_keeps_it(monkeypatch):
    p = TellsTwoAndWaits()
    p.start()
    try:
        inbox = p._skprocess_internals.handle._inbox
        for _ in range(400):  # (a wait that times out takes what came into the inbox)
            if len(inbox) == 2:
                break
            p.wait(timeout=0.05)
        assert len(inbox) == 2
        monkeypatch.setattr(_handle, "decode", interrupt_on_call(1)(_handle.decode))
        with pytest.raises(KeyboardInterrupt):
            p.listen(timeout=TIMEOUT)
        monkeypatch.undo()
        assert p.listen(timeout=TIMEOUT) == ["first"]
        assert p.listen(timeout=TIMEOUT) == "second"
        p.tell("go")
        assert p.wait(TIMEOUT)
    finally:
        p.kill()


def test_a_start_failing_after_its_child_exists_leaves_nothing_registered(monkeypatch):
    live = set(_handle._live)
    monkeypatch.setattr(_handle, "INTERNALS", "no such key")  # the last step fails
    with pytest.raises(KeyError):
        Waits().start()
    monkeypatch.undo()
    assert set(_handle._live) == live
    p = Waits()  # (the next start settles the ended ones: the failed one is not among them)
    p.start()
    p.kill()
    p.wait(TIMEOUT)


@pytest.mark.parametrize(("method", "line"), [
    ("wait", "pumped = True"),
    ("listen", "if mine:"),
])
def test_a_ctrl_c_right_after_taking_the_pump_leaves_it_free(method, line):
    p = Waits()
    p.start()
    try:
        function = {"wait": _handle.ParentHandle._await, "listen": _handle.ParentHandle.listen}
        with interrupt_before_line(function[method], line) as fired:
            with pytest.raises(KeyboardInterrupt):
                getattr(p, method)(timeout=0.2)
        assert fired
        p.tell("go")
        # (before: the pump stayed taken, and this waited forever)
        assert p.wait(TIMEOUT)
    finally:
        p.kill()


def test_a_result_cut_short_while_it_loads_is_loaded_by_the_next_call(monkeypatch):
    p = ReturnsALot()
    p.start()
    try:
        monkeypatch.setattr(cerial, "deserialize", interrupt_on_call(1)(cerial.deserialize))
        with pytest.raises(KeyboardInterrupt):
            p.result()
        monkeypatch.undo()
        assert p.wait(TIMEOUT)
        assert p.result() == list(range(200_000))
    finally:
        p.kill()


def test_a_start_cut_short_keeps_its_child_within_reach(monkeypatch):
    real = _process.ParentHandle

    def handle_then_interrupt(*args, **kwargs):
        handle = real(*args, **kwargs)
        signal.raise_signal(signal.SIGINT)  # as the constructor returns
        return handle

    monkeypatch.setattr(_process, "ParentHandle", handle_then_interrupt)
    p = Waits()
    with pytest.raises(KeyboardInterrupt):
        p.start()
    monkeypatch.undo()
    pid = p._skprocess_internals.handle.pid
    with pytest.raises(RuntimeError, match="already started"):
        p.start()
    p.kill()
    assert not wait_gone([pid])


def test_a_write_cut_short_while_reading_what_came_unasked_closes_its_link():
    share = Share()
    try:
        share.counter = 0
        link = share._sk_link()
        del share.missing  # fails in the coordinator: its notice comes unasked
        assert link.poller.poll(int(TIMEOUT * 1000)), "the notice never came"
        with interrupt_before_line(Link._receive, "self.buffer += data") as fired:
            with pytest.raises(KeyboardInterrupt):
                share.counter = 1  # write(): reads what came first, and is cut there
        assert fired
        # Bytes read and lost may have cut a frame: that link is not used again.
        assert link.sock is None
        share.counter = 2
        assert share.counter == 2
    finally:
        share.exit()
