"""Skprocess classes as Pool tasks: the class plus its __init__ arguments, run in a worker."""

from __future__ import annotations

import os
import time

import pytest
from _support import TIMEOUT

from suitkaise.processing import ProcessTimeoutError, RunError, Skprocess
from suitkaise.processing._errors import RemoteTraceback

# Attempts per key, kept in the worker process (lives retry inside the same process).
ATTEMPTS: dict[object, int] = {}


class Square(Skprocess):
    def __init__(self, x):
        self.x = x
        self.process_config.runs = 1

    def __run__(self):
        self.y = self.x * self.x

    def __result__(self):
        return self.y


class Colour(Skprocess):
    def __init__(self, image, colour, percent):
        self.process_config.runs = 1
        self.args = (image, colour, percent)

    def __run__(self):
        pass

    def __result__(self):
        return self.args


class Counter(Skprocess):
    """Runs three times; records the lifecycle it went through."""

    def __init__(self, tag):
        self.tag = tag
        self.seen = []
        self.process_config.runs = 3

    def __prerun__(self):
        self.seen.append("pre")

    def __run__(self):
        self.seen.append("run")

    def __postrun__(self):
        self.seen.append("post")

    def __onfinish__(self):
        self.seen.append("finish")

    def __result__(self):
        return (self.tag, self.seen, self.__run__.timer.num_times, os.getpid())


class StopsItself(Skprocess):
    """No run limit: stops itself after its fifth run."""

    def __init__(self):
        self.runs = 0

    def __run__(self):
        self.runs += 1
        if self.runs == 5:
            self.stop()

    def __result__(self):
        return self.runs


class Flaky(Skprocess):
    """Fails its first attempt at run 2; lives = 2 retries it from run 2's __prerun__."""

    def __init__(self, key):
        self.key = key
        self.total = 0
        self.process_config.runs = 3
        self.process_config.lives = 2

    def __run__(self):
        self.total += 1
        if self.total == 2:
            ATTEMPTS[self.key] = ATTEMPTS.get(self.key, 0) + 1
            if ATTEMPTS[self.key] == 1:
                raise ConnectionError("first try fails")

    def __result__(self):
        return self.total


class Broken(Skprocess):
    def __init__(self):
        self.process_config.runs = 2

    def __run__(self):
        raise ConnectionError("Failed to connect to server")


class Handled(Broken):
    def __error__(self, error):
        return f"handled: {type(error.original_error).__name__}"


class Stuck(Skprocess):
    def __init__(self):
        self.process_config.runs = 1
        self.process_config.timeouts.run = 0.2

    def __run__(self):
        time.sleep(TIMEOUT)


class Talks(Skprocess):
    def __init__(self):
        self.process_config.runs = 1

    def __run__(self):
        self.tell("hello")


class NoRun(Skprocess):
    pass


def test_skprocess_classes_run_and_return_their_result(pool):
    assert pool.map(Square, [1, 2, 3]) == [1, 4, 9]
    assert list(pool.imap(Square, [4])) == [16]
    assert sorted(pool.unordered_imap(Square, [5, 6])) == [25, 36]


def test_star_passes_init_arguments(pool):
    rows = list(zip(["a", "b"], ["red", "blue"], [10, 20], strict=True))
    assert pool.star().map(Colour, rows) == [("a", "red", 10), ("b", "blue", 20)]


def test_runs_and_lifecycle_are_honoured(pool):
    tag, seen, timed, pid = pool.map(Counter, ["t"])[0]
    assert tag == "t" and timed == 3
    assert seen == ["pre", "run", "post"] * 3 + ["finish"]
    assert pid in pool.worker_pids


def test_stop_from_inside_ends_the_task(pool):
    assert pool.star().map(StopsItself, [(), ()]) == [5, 5]


def test_lives_retry_the_failed_run(pool):
    keys = [f"{os.getpid()}-{time.monotonic()}-{i}" for i in range(2)]
    assert pool.map(Flaky, keys) == [3, 3]


def test_errors_come_back_as_process_errors(pool):
    with pytest.raises(RunError, match="Error in __run__ on run 1") as info:
        pool.star().map(Broken, [()])
    error = info.value
    assert isinstance(error.original_error, ConnectionError) and error.current_run == 1
    assert isinstance(error.__cause__, RemoteTraceback)
    assert "Failed to connect to server" in str(error.__cause__)
    assert pool.star().map(Handled, [()]) == ["handled: ConnectionError"]


def test_lifecycle_timeouts_are_honoured(pool):
    started = time.monotonic()
    with pytest.raises(ProcessTimeoutError, match="Timeout in run after 0.2s on run 1"):
        pool.star().map(Stuck, [()])
    assert time.monotonic() - started < TIMEOUT / 2
    assert pool.map(Square, [2]) == [4]


def test_tell_is_not_available_in_a_pool(pool):
    with pytest.raises(RunError) as info:
        pool.star().map(Talks, [()])
    assert "not available" in str(info.value.original_error)


def test_class_without_run_is_refused(pool):
    with pytest.raises(TypeError, match="__run__"):
        pool.map(NoRun, [1])
