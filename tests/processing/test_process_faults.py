"""Faults: a child that dies never hangs its parent; a parent leaves no child behind."""

from __future__ import annotations

import os
import select
import signal
import struct
import threading
import time

import pytest
from _support import TIMEOUT
from process_probes import alive, run_script, wait_gone

from suitkaise.processing import ProcessError, Skprocess

# A death must be noticed within this many seconds (the issue asks for 1 second).
NOTICE = 1.0


class Sleeper(Skprocess):
    """Tells its pid, then sleeps in __run__ until something ends it."""

    def __run__(self):
        self.tell(os.getpid())
        time.sleep(TIMEOUT)


class DiesBy(Skprocess):
    def __init__(self, how):
        self.how = how

    def __run__(self):
        self.tell("ready")
        self.listen(timeout=TIMEOUT)  # wait for the go, so the parent's clock is fair
        if self.how == "exit":
            os._exit(3)
        if self.how == "segfault":
            import ctypes
            import faulthandler

            faulthandler.disable()  # keep the crash quiet: no stack dump on the terminal
            ctypes.string_at(0)
        if self.how == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)


def test_sigkill_from_outside_raises_within_a_second(start_method):
    p = Sleeper()
    p.start()
    pid = p.listen(timeout=TIMEOUT)
    os.kill(pid, signal.SIGKILL)
    started = time.monotonic()
    with pytest.raises(ProcessError) as info:
        p.wait(timeout=TIMEOUT)
    assert time.monotonic() - started < NOTICE
    e = info.value
    assert "killed by signal 9 (SIGKILL) in __run__ on run 1" in str(e)
    assert e.current_run == 1 and e.original_error is None
    with pytest.raises(ProcessError, match="SIGKILL"):
        p.result()


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("exit", r"exited with code 3 in __run__ on run 1 without reporting a result"),
        ("segfault", r"killed by signal 11 \(SIGSEGV\) in __run__ on run 1"),
        ("sigkill", r"killed by signal 9 \(SIGKILL\)"),
    ],
)
def test_child_death_is_reported_within_a_second(how, message, start_method):
    p = DiesBy(how)
    p.start()
    assert p.listen(timeout=TIMEOUT) == "ready"
    p.tell("go")
    started = time.monotonic()
    with pytest.raises(ProcessError, match=message):
        p.result()
    assert time.monotonic() - started < NOTICE


def test_result_background_sees_the_death_too(start_method):
    p = Sleeper()
    p.start()
    future = p.result.background()()
    os.kill(p.listen(timeout=TIMEOUT), signal.SIGKILL)
    with pytest.raises(ProcessError, match="SIGKILL"):
        future.result(timeout=TIMEOUT)


class KeepsItsEndsInAGrandchild(Skprocess):
    """Forks a grandchild that keeps a copy of every descriptor (so the parent's end of
    the channel sees no EOF when this process dies) for twice NOTICE seconds; then tells
    its pid and sleeps."""

    def __init__(self, fork_grandchild):
        self.fork_grandchild = fork_grandchild
        self.process_config.runs = 1

    def __run__(self):
        if self.fork_grandchild:
            if os.fork() == 0:
                time.sleep(2 * NOTICE)
                os._exit(0)
        self.tell(os.getpid())
        time.sleep(TIMEOUT)


@pytest.mark.parametrize("fork_grandchild", [False, True])
def test_a_listener_without_timeout_sees_the_death_within_a_second(fork_grandchild,
                                                                   start_method):
    p = KeepsItsEndsInAGrandchild(fork_grandchild)
    p.start()
    pid = p.listen(timeout=TIMEOUT)
    heard = []
    listener = threading.Thread(target=lambda: heard.append(p.listen()))
    listener.start()
    time.sleep(0.05)  # (not a synchronisation: gives the listener time to block, if it can)
    os.kill(pid, signal.SIGKILL)
    started = time.monotonic()
    listener.join(TIMEOUT)
    assert not listener.is_alive()
    assert time.monotonic() - started < NOTICE
    assert heard == [None]
    with pytest.raises(ProcessError, match="SIGKILL"):
        p.result()


def test_a_grandchild_holding_the_childs_descriptors_does_not_hide_its_death(start_method):
    p = KeepsItsEndsInAGrandchild(True)
    p.start()
    os.kill(p.listen(timeout=TIMEOUT), signal.SIGKILL)
    started = time.monotonic()
    with pytest.raises(ProcessError, match="SIGKILL"):
        p.wait(timeout=TIMEOUT)
    assert time.monotonic() - started < NOTICE


class DiesInTheMiddleOfAMessage(Skprocess):
    """Forks a grandchild that keeps the channel open, writes the start of a message
    (its head and half its body) straight to the channel, and sleeps."""

    def __init__(self):
        self.process_config.runs = 1

    def __run__(self):
        if os.fork() == 0:
            time.sleep(2 * NOTICE)
            os._exit(0)
        out = self._skprocess_internals.child.out
        out.setblocking(True)
        out.sendall(struct.pack("!i", 1_000_000) + b"x" * 500_000)
        time.sleep(TIMEOUT)


@pytest.mark.parametrize("listening", [False, True], ids=["waiting", "listening"])
def test_a_death_in_the_middle_of_a_message_is_seen_in_time(listening, start_method):
    p = DiesInTheMiddleOfAMessage()
    p.start()
    handle = p._skprocess_internals.handle
    assert select.select([handle._tell_in], [], [], TIMEOUT)[0]  # the message has begun
    heard = []
    if listening:
        listener = threading.Thread(target=lambda: heard.append(p.listen(timeout=TIMEOUT)))
        listener.start()
    os.kill(handle.pid, signal.SIGKILL)
    started = time.monotonic()
    with pytest.raises(ProcessError, match="SIGKILL"):
        p.wait(timeout=TIMEOUT)
    if listening:
        listener.join(TIMEOUT)
        assert heard == [None]
    assert time.monotonic() - started < NOTICE


# ---------------------------------------------------------------- no orphans

# The children of the parent scripts below: one that idles, one that spins.
CHILDREN = """
import os, sys, threading, time
from suitkaise.processing import Skprocess, _handle, set_start_method

class Forever(Skprocess):
    def __run__(self):
        time.sleep(0.01)

class Busy(Skprocess):
    def __run__(self):
        while True:
            pass

def start_both(pids):
    procs = [Forever(), Busy()]
    for p in procs:
        p.start()
        pids.append(p._skprocess_internals.handle.pid)
    return procs
"""

PARENT = CHILDREN + """
if __name__ == "__main__":
    set_start_method(sys.argv[1])
    pids = []
    procs = start_both(pids)
    print(*pids, flush=True)
    how = sys.argv[2]
    if how == "exception":
        raise RuntimeError("the parent crashed")
    if how == "wait":
        time.sleep(60)
    # "normal": fall off the end of the script
"""


@pytest.mark.parametrize("how", ["normal", "exception", "sigint", "sigkill"])
def test_no_child_outlives_its_parent(tmp_path, how, start_method):
    mode = "wait" if how.startswith("sig") else how
    parent = run_script(tmp_path / "parent.py", PARENT, start_method, mode)
    try:
        pids = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(pids) == 2
        if how.startswith("sig"):  # (the other parents may already be gone, children too)
            assert all(alive(pid) for pid in pids)
        if how == "sigint":
            parent.send_signal(signal.SIGINT)
        elif how == "sigkill":
            parent.kill()
        parent.wait(timeout=TIMEOUT)
        assert wait_gone(pids) == []
    finally:
        parent.kill()
        parent.communicate(timeout=TIMEOUT)


SETUPS = CHILDREN + """
if __name__ == "__main__":
    set_start_method(sys.argv[1])
    setup = sys.argv[2]
    if setup == "watcher-thread":  # as where the kernel cannot watch the lifeline
        _handle.arm_lifeline = lambda lifeline: False
    pids = []
    if setup == "from-a-thread":  # that thread is gone before the parent dies
        starter = threading.Thread(target=start_both, args=(pids,))
        starter.start()
        starter.join()
    else:
        start_both(pids)
    others = []
    if setup == "forked-sibling":  # a plain fork of the parent outlives it
        sibling = os.fork()
        if sibling == 0:
            time.sleep(60)
            os._exit(0)
        others.append(sibling)
    print(*pids, flush=True)
    print(*others, flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("setup", ["from-a-thread", "watcher-thread", "forked-sibling"])
def test_no_child_outlives_a_killed_parent_whatever_started_it(tmp_path, setup, start_method):
    parent = run_script(tmp_path / "parent.py", SETUPS, start_method, setup)
    others: list[int] = []
    try:
        pids = [int(pid) for pid in parent.stdout.readline().split()]
        others = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(pids) == 2
        assert all(alive(pid) for pid in pids)  # (alive after their starting thread ended)
        parent.kill()
        parent.wait(timeout=TIMEOUT)
        assert wait_gone(pids) == []
    finally:
        parent.kill()
        for pid in others:  # (it holds the script's stdout open)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        parent.communicate(timeout=TIMEOUT)


def test_missing_main_guard_gets_one_clear_message(tmp_path):
    script = """
    import os
    from suitkaise.processing import Skprocess, set_start_method

    class Job(Skprocess):
        def __init__(self):
            self.process_config.runs = 1

        def __run__(self):
            pass

    set_start_method(os.environ["START_METHOD"])
    print(Job().run())
    """
    for method in ("spawn", "forkserver"):
        os.environ["START_METHOD"] = method
        try:
            proc = run_script(tmp_path / "unguarded.py", script)
        finally:
            del os.environ["START_METHOD"]
        out, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 1, (method, out, err)
        assert 'if __name__ == "__main__":' in err
        assert err.count("could not start") == 1  # said once, not once per child
        assert "ProcessError: Job could not start" in err


def test_guarded_script_runs_under_every_method(tmp_path, start_method):
    script = """
    import sys
    from suitkaise.processing import Skprocess, set_start_method

    class Job(Skprocess):
        def __init__(self):
            self.process_config.runs = 2
            self.double = lambda x: 2 * x
            self.n = 1

        def __run__(self):
            self.n = self.double(self.n)

        def __result__(self):
            return self.n

    if __name__ == "__main__":
        set_start_method(sys.argv[1])
        print(Job().run())
    """
    proc = run_script(tmp_path / "guarded.py", script, start_method)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert (proc.returncode, out.strip()) == (0, "4"), err

