"""start / run / wait / stop / kill / tell / listen / result, and their sk modifiers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import multiprocessing.context
import os

import pytest
from _support import TIMEOUT

from suitkaise import cerial
from suitkaise.processing import ProcessError, ResultTimeoutError, Skprocess
from suitkaise.sk import SkModifierError

# Every test runs under fork, forkserver and spawn.
pytestmark = pytest.mark.usefixtures("start_method")


class Echo(Skprocess):
    """Answers each message with ("echo", message) until it gets "bye"."""

    def __init__(self):
        self.seen = []

    def __run__(self):
        message = self.listen(timeout=TIMEOUT)
        if message == "bye":
            self.stop()
            return
        self.seen.append(message)
        self.tell(("echo", message))

    def __result__(self):
        return len(self.seen)


class Gate(Skprocess):
    """Says "ready", then blocks until told to go; returns what it was told."""

    def __init__(self):
        self.process_config.runs = 1

    def __run__(self):
        self.tell("ready")
        self.answer = self.listen(timeout=TIMEOUT)

    def __result__(self):
        return self.answer


class Spins(Skprocess):
    """Runs until stopped or killed; says "ready" on its first run."""

    def __init__(self):
        self.count = 0

    def __run__(self):
        self.count += 1
        if self.count == 1:
            self.tell("ready")

    def __result__(self):
        return "finished"


class Chatty(Skprocess):
    """Tells a burst of large messages that nobody reads until it has finished."""

    def __init__(self, n, size):
        self.process_config.runs = 1
        self.n, self.size = n, size

    def __run__(self):
        for i in range(self.n):
            self.tell((i, b"x" * self.size))

    def __result__(self):
        return "sent"


def test_tell_and_listen_both_ways():
    p = Echo()
    p.start()
    for message in (1, "two", {"three": [3]}):
        p.tell(message)
        assert p.listen(timeout=TIMEOUT) == ("echo", message)
    p.tell("bye")
    assert p.result() == 3
    assert p.seen == [1, "two", {"three": [3]}]


def test_tell_carries_what_only_cerial_can():
    p = Echo()
    p.start()
    p.tell(lambda x: x + 1)
    kind, func = p.listen(timeout=TIMEOUT)
    assert kind == "echo" and func(1) == 2
    p.tell("bye")
    assert p.result() == 1


def test_tell_does_not_block_and_listen_gets_messages_after_the_end():
    # 40 x 64 KiB is far beyond a pipe's buffer: the child must not block on tell(),
    # and the parent gets every message in order, even after the child has ended.
    p = Chatty(n=40, size=64 * 1024)
    assert p.run() == "sent"
    received = [p.listen(timeout=TIMEOUT) for _ in range(40)]
    assert [i for i, _ in received] == list(range(40))
    assert p.listen(timeout=TIMEOUT) is None  # nothing more will ever come


def test_parent_tell_does_not_block_when_the_child_does_not_listen():
    p = Gate()
    p.start()
    assert p.listen(timeout=TIMEOUT) == "ready"
    for _ in range(20):  # 20 x 64 KiB: more than the pipe holds
        p.tell(b"y" * 64 * 1024)
    assert p.result() == b"y" * 64 * 1024


def test_listen_timeout_returns_none():
    p = Gate()
    p.start()
    assert p.listen(timeout=TIMEOUT) == "ready"
    assert p.listen(timeout=0.01) is None
    p.tell("go")
    assert p.result() == "go"


def test_wait_timeout_returns_false_then_true():
    p = Gate()
    p.start()
    assert p.wait(timeout=0.01) is False
    p.tell("go")
    assert p.wait(timeout=TIMEOUT) is True
    assert p.wait() is True  # waiting again on a finished process returns at once


def test_kill_ends_without_result_or_cleanup():
    p = Spins()
    p.start()
    assert p.listen(timeout=TIMEOUT) == "ready"
    p.kill()
    assert p.wait(timeout=TIMEOUT) is True
    assert p.result() is None
    assert p.count == 0  # no final state came back
    p.kill()  # killing an ended process does nothing


def test_kill_after_the_result_changes_nothing():
    p = Gate()
    p.start()
    p.tell("go")
    assert p.result() == "go"
    p.kill()
    assert p.result() == "go"


def test_stop_from_parent_returns_at_once_and_the_process_finishes():
    p = Spins()
    p.start()
    assert p.listen(timeout=TIMEOUT) == "ready"
    p.stop()
    p.stop()  # twice is fine
    assert p.result() == "finished"
    assert p.count >= 1
    p.stop()  # and after the end


def test_result_is_available_many_times():
    p = Echo()
    p.start()
    p.tell("bye")
    assert p.result() == 0
    assert p.result() == 0


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_finished_processes_hold_no_descriptors():
    """Pipes, sockets and the shared status of an ended process are released when its
    outcome is read, though the instance lives on."""
    first = Echo()  # (first-use setup outside the count)
    first.start()
    first.tell("bye")
    first.result()
    before = len(os.listdir("/proc/self/fd"))
    kept = []
    for _ in range(5):
        p = Echo()
        p.start()
        p.tell("bye")
        assert p.result() == 0
        kept.append(p)
    assert len(os.listdir("/proc/self/fd")) == before


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_a_start_that_fails_midway_leaves_nothing_open(monkeypatch):
    """Out of descriptors while making the last pipe (the lifeline, after the report
    pipe and the channel's sockets): a ProcessError, and the pipes, sockets and shared
    memory made so far are closed again."""
    first = Echo()  # (first-use setup outside the count)
    first.start()
    first.tell("bye")
    first.result()
    real_pipe = multiprocessing.context.BaseContext.Pipe
    made = []

    def pipe(self, duplex=True):
        if len(made) == 1:
            raise OSError(errno.EMFILE, "Too many open files")
        made.append(None)
        return real_pipe(self, duplex)

    before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(multiprocessing.context.BaseContext, "Pipe", pipe)
    with pytest.raises(ProcessError, match="could not be started.*Too many open files"):
        Echo().start()
    monkeypatch.undo()
    assert len(made) == 1
    assert len(os.listdir("/proc/self/fd")) == before


# ------------------------------------------------------------------------- misuse


def test_methods_before_start_are_clear_errors():
    p = Spins()
    for call in (p.wait, p.result, p.kill, p.stop, p.listen, lambda: p.tell(1)):
        with pytest.raises(RuntimeError, match=r"has not been started"):
            call()


def test_start_twice_is_an_error():
    p = Echo()
    p.start()
    with pytest.raises(RuntimeError, match=r"already started"):
        p.start()
    p.tell("bye")
    p.wait(timeout=TIMEOUT)


def test_parent_only_methods_inside_the_child():
    class Inside(Skprocess):
        def __init__(self):
            self.process_config.runs = 1

        def __run__(self):
            self.errors = []
            for call in (self.wait, self.result, self.kill, self.start):
                try:
                    call()
                except RuntimeError as e:
                    self.errors.append(str(e))

        def __result__(self):
            return self.errors

    errors = Inside().run()
    assert len(errors) == 4
    assert all("inside" in e for e in errors)


class Unsendable:
    def __reduce__(self):
        raise TypeError("this object refuses to travel")


def test_unserializable_instance_fails_in_start():
    class Holder(Skprocess):
        def __init__(self):
            self.thing = Unsendable()

        def __run__(self):
            pass

    with pytest.raises(cerial.SerializationError) as info:
        Holder().start()
    assert any("Holder to its new process" in note for note in info.value.__notes__)


@pytest.mark.parametrize("timeout", ["1", -float("nan")])
def test_bad_timeouts(timeout):
    p = Gate()
    p.start()
    with pytest.raises((TypeError, ValueError)):
        p.wait(timeout)
    with pytest.raises((TypeError, ValueError)):
        p.listen(timeout)
    p.tell("go")
    p.wait(timeout=TIMEOUT)


# ---------------------------------------------------------------------- modifiers


def test_result_timeout_raises_result_timeout_error():
    p = Gate()
    p.start()
    with pytest.raises(ResultTimeoutError, match=r"did not finish within 0.05s") as info:
        p.result.timeout(0.05)()
    assert info.value.timeout == 0.05
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, ProcessError)
    p.tell("go")
    assert p.result.timeout(TIMEOUT)() == "go"


def test_result_background_and_asynced():
    p = Gate()
    p.start()
    future = p.result.background()()
    assert isinstance(future, concurrent.futures.Future)
    assert p.listen(timeout=TIMEOUT) == "ready"
    p.tell("go")
    assert future.result(timeout=TIMEOUT) == "go"

    async def main():
        return await p.result.asynced()()

    assert asyncio.run(main()) == "go"


def test_wait_asynced_and_listen_modifiers():
    p = Gate()
    p.start()
    assert p.listen.background()(TIMEOUT).result(timeout=TIMEOUT) == "ready"

    async def main():
        p.tell("go")
        return await p.wait.asynced()(TIMEOUT)

    assert asyncio.run(main()) is True

    q = Echo()
    q.start()

    async def talk():
        q.tell("hi")
        return await q.listen.asynced()(TIMEOUT)

    assert asyncio.run(talk()) == ("echo", "hi")
    q.tell("bye")
    assert q.result() == 1


def test_many_threads_wait_on_one_process():
    p = Gate()
    p.start()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        waits = [pool.submit(p.wait, TIMEOUT) for _ in range(3)]
        assert p.listen(timeout=TIMEOUT) == "ready"
        p.tell("go")
        assert [w.result(timeout=TIMEOUT) for w in waits] == [True] * 3
    assert p.result() == "go"


@pytest.mark.parametrize(
    ("method", "modifier"),
    [
        ("wait", "retry"),
        ("wait", "timeout"),
        ("wait", "background"),
        ("result", "retry"),
        ("result", "rate_limit"),
        ("listen", "retry"),
    ],
)
def test_refused_modifiers_name_method_and_modifier(method, modifier):
    p = Spins()
    expected = rf"{method}\(\) does not support the {modifier}\(\) modifier"
    with pytest.raises(SkModifierError, match=expected):
        getattr(getattr(p, method), modifier)


def test_zero_timeouts_still_see_what_has_arrived():
    p = Gate()
    p.start()
    assert p.listen(timeout=TIMEOUT) == "ready"
    p.tell("go")
    # Once the process has ended, wait(0) must say so, however it is polled.
    while not p.wait(timeout=0):
        pass
    assert p.result() == "go"

    q = Echo()
    q.start()
    q.tell("hi")
    while (message := q.listen(timeout=0)) is None:
        pass
    assert message == ("echo", "hi")
    q.tell("bye")
    assert q.wait(timeout=TIMEOUT)
