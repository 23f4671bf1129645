"""The lifecycle: which methods run, how often, in what order, and what comes back."""

from __future__ import annotations

import functools
import logging
import os
import re
import signal
import threading

import pytest
from _support import TIMEOUT

from suitkaise.processing import ProcessConfig, Skprocess

# Every test runs under fork, forkserver and spawn.
pytestmark = pytest.mark.usefixtures("start_method")


class Recorder(Skprocess):
    """Records every lifecycle call it sees, in order."""

    def __init__(self, runs):
        self.calls = ["__init__"]
        self.process_config.runs = runs

    def __prerun__(self):
        self.calls.append("prerun")

    def __run__(self):
        self.calls.append("run")

    def __postrun__(self):
        self.calls.append("postrun")

    def __onfinish__(self):
        self.calls.append("onfinish")

    def __result__(self):
        self.calls.append("result")
        return list(self.calls)


class OnlyRun(Skprocess):
    def __init__(self):
        self.process_config.runs = 2
        self.count = 0

    def __run__(self):
        self.count += 1


class NoInit(Skprocess):
    def __run__(self):
        self.stop()

    def __result__(self):
        return "no __init__ needed"


class StopsItself(Skprocess):
    def __init__(self, at):
        self.at = at
        self.count = 0

    def __run__(self):
        self.count += 1
        if self.count == self.at:
            self.stop()

    def __postrun__(self):
        self.after_stop = self.count

    def __result__(self):
        return self.count


class UntilStopped(Skprocess):
    def __init__(self):
        self.count = 0

    def __run__(self):
        self.count += 1
        if self.count == 1:
            self.tell("running")

    def __onfinish__(self):
        self.finished = True

    def __result__(self):
        return self.count


def test_full_lifecycle_order():
    p = Recorder(runs=2)
    result = p.run()
    runs = ["prerun", "run", "postrun"]
    assert result == ["__init__", *runs, *runs, "onfinish", "result"]
    assert p.calls == result  # the parent's instance took the child's final state


def test_only_run_is_required_and_result_defaults_to_none():
    p = OnlyRun()
    assert p.run() is None
    assert p.count == 2


def test_class_without_init():
    assert NoInit().run() == "no __init__ needed"


def test_stop_from_inside_finishes_the_run_then_cleans_up():
    p = StopsItself(at=3)
    assert p.run() == 3
    assert p.after_stop == 3  # __postrun__ of the stopping run still ran


def test_stop_from_parent():
    p = UntilStopped()
    p.start()
    assert p.listen(timeout=TIMEOUT) == "running"
    p.stop()
    assert p.wait(timeout=TIMEOUT) is True
    assert p.result() >= 1
    assert p.finished is True


def test_join_in_stops_after_the_current_run():
    class Ticker(Skprocess):
        def __init__(self):
            self.process_config.join_in = 0.05
            self.count = 0

        def __run__(self):
            self.count += 1

        def __result__(self):
            return self.count

    assert Ticker().run() >= 1


def test_missing_run_is_a_clear_error_at_start():
    class Empty(Skprocess):
        def __prerun__(self):
            pass

    with pytest.raises(TypeError, match=r"Empty must define __run__"):
        Empty().start()


def test_async_lifecycle_method_is_refused_at_class_creation():
    with pytest.raises(TypeError, match=r"__run__ must be a plain method, not async"):

        class Async(Skprocess):
            async def __run__(self):
                pass


# ------------------------------------------------------------------ __init__ and config


def test_config_defaults():
    config = OnlyRun.__new__(OnlyRun).process_config
    assert (config.runs, config.join_in, config.lives) == (None, None, 1)
    timeouts = config.timeouts
    sections = ("prerun", "run", "postrun", "onfinish", "result", "error")
    assert [getattr(timeouts, s) for s in sections] == [None] * 6
    assert isinstance(config, ProcessConfig)


def test_config_is_per_instance_and_set_in_init():
    class Job(Skprocess):
        def __init__(self, runs):
            self.process_config.runs = runs
            self.process_config.lives = 2
            self.process_config.timeouts.run = 3
            self.process_config.join_in = 1.5

        def __run__(self):
            pass

    a, b = Job(1), Job(5)
    assert (a.process_config.runs, b.process_config.runs) == (1, 5)
    assert b.process_config.timeouts.run == 3.0
    assert b.process_config.join_in == 1.5
    assert b.process_config.lives == 2


def test_config_cannot_change_outside_init():
    p = OnlyRun()
    only_in_init = r"only be changed inside __init__.*process_config\.runs"
    with pytest.raises(AttributeError, match=only_in_init):
        p.process_config.runs = 3
    with pytest.raises(AttributeError, match=r"process_config\.timeouts\.run"):
        p.process_config.timeouts.run = 1.0
    with pytest.raises(AttributeError, match=r"cannot be replaced"):
        p.process_config = None
    with pytest.raises(AttributeError, match=r"cannot be replaced"):

        class Replaces(Skprocess):
            def __init__(self):
                self.process_config.timeouts = None

            def __run__(self):
                pass

        Replaces()


def test_config_cannot_change_in_lifecycle():
    class Sneaky(Skprocess):
        def __init__(self):
            self.process_config.runs = 1

        def __run__(self):
            self.process_config.runs = 10

        def __error__(self, error):
            return repr(error.original_error)

    assert "only be changed inside __init__" in Sneaky().run()


@pytest.mark.parametrize(
    ("setting", "value", "error"),
    [
        ("runs", 0, ValueError),
        ("runs", 1.5, TypeError),
        ("runs", True, TypeError),
        ("lives", None, TypeError),
        ("lives", 0, ValueError),
        ("join_in", -1, ValueError),
        ("join_in", "1", TypeError),
    ],
)
def test_config_values_are_checked(setting, value, error):
    class Bad(Skprocess):
        def __init__(self):
            setattr(self.process_config, setting, value)

        def __run__(self):
            pass

    with pytest.raises(error, match=re.escape(f"process_config.{setting}")):
        Bad()


def test_config_unknown_setting_names_the_settings():
    class Typo(Skprocess):
        def __init__(self):
            self.process_config.run = 3

        def __run__(self):
            pass

    with pytest.raises(AttributeError, match=r"no setting 'run'.*runs, join_in, lives, timeouts"):
        Typo()


def test_nested_init_keeps_config_open():
    class Base(Skprocess):
        def __init__(self):
            self.process_config.runs = 2

        def __run__(self):
            pass

    class Child(Base):
        def __init__(self):
            super().__init__()
            self.process_config.lives = 3  # still inside __init__ after super() returned

    p = Child()
    assert (p.process_config.runs, p.process_config.lives) == (2, 3)


def test_user_init_runs_with_arguments():
    class Args(Skprocess):
        def __init__(self, a, *, b=2):
            self.total = a + b

        def __run__(self):
            pass

    assert Args(1, b=5).total == 6


# ---------------------------------------------------------------- what can sit on self


class Rich(Skprocess):
    def __init__(self):
        self.process_config.runs = 1
        self.double = lambda x: 2 * x
        self.partial = functools.partial(pow, 2)
        self.lock = threading.Lock()
        self.logger = logging.getLogger("suitkaise.test.rich")
        self.pattern = re.compile(r"\d+")
        self.me = self

    def __run__(self):
        with self.lock:
            self.value = self.double(self.partial(3))
        self.digits = self.pattern.findall("a1b22")

    def __result__(self):
        return self.value, self.digits, self.logger.name, self.me is self


def test_anything_cerial_handles_sits_on_self():
    p = Rich()
    assert p.run() == (16, ["1", "22"], "suitkaise.test.rich", True)
    assert p.value == 16
    assert p.me is p  # the reference to the instance still points at the parent's instance


def test_local_class_travels_by_value():
    class Point:
        def __init__(self, x):
            self.x = x

    class Local(Skprocess):
        def __init__(self):
            self.process_config.runs = 1
            self.point = Point(1)

        def __run__(self):
            self.point = Point(self.point.x + 1)

        def __result__(self):
            return self.point

    p = Local()
    result = p.run()
    assert type(result) is Point and result.x == 2
    assert type(p.point) is Point and p.point.x == 2


# ---------------------------------------------------------- how the instance arrives


class StartsInInit(Skprocess):
    """Starts itself from inside __init__, while its config is still open there."""

    def __init__(self):
        self.process_config.runs = 1
        self.start()

    def __run__(self):
        try:
            self.process_config.runs = 5
            self.outcome = "changed"
        except AttributeError:
            self.outcome = "closed"

    def __result__(self):
        return self.outcome


def test_config_arrives_closed_even_when_started_inside_init():
    assert StartsInInit().result() == "closed"


NEW_CALLED_IN: list[int] = []


class WithNew(Skprocess):
    def __new__(cls, *args, **kwargs):
        NEW_CALLED_IN.append(os.getpid())
        return super().__new__(cls)

    def __init__(self):
        self.process_config.runs = 1
        self.counts = {"runs": 0}

    def __run__(self):
        self.counts["runs"] += 1
        self.new_ran_here = os.getpid() in NEW_CALLED_IN

    def __result__(self):
        return self.new_ran_here


def test_a_classs_own_new_runs_when_the_instance_arrives():
    p = WithNew()
    assert p.run() is True
    assert p.counts == {"runs": 1}


def test_plain_attributes_arrive_as_equal_values():
    class Plain(Skprocess):
        def __init__(self):
            self.process_config.runs = 2
            self.values = (None, True, 7, 2.5, 1j, "text", b"bytes")
            self.n, self.s, self.f = 10**30, "ü" * 3, float("inf")

        def __run__(self):
            self.n += 1

        def __result__(self):
            return self.values, self.n, self.s, self.f

    p = Plain()
    values = (None, True, 7, 2.5, 1j, "text", b"bytes")
    assert p.run() == (values, 10**30 + 2, "üüü", float("inf"))


def test_class_that_cannot_travel_fails_in_start():
    class Refuses:
        def __reduce__(self):
            raise TypeError("this object refuses to travel")

    class Local(Skprocess):
        helper = Refuses()  # a class attribute: travels with the class (sent by value)

        def __run__(self):
            pass

    from suitkaise import cerial

    with pytest.raises(cerial.SerializationError) as info:
        Local().start()
    assert any("Local to its new process" in note for note in info.value.__notes__)


class Timed(Skprocess):
    def __init__(self):
        self.process_config.runs = 2
        self.process_config.timeouts.run = 30.0

    def __run__(self):
        self.handler_here = signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL

    def __result__(self):
        return self.handler_here


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no SIGALRM timeouts here")
def test_a_timed_process_sets_its_alarm_handler_in_its_own_process_only():
    before = signal.getsignal(signal.SIGALRM)
    assert Timed().run() is True
    assert signal.getsignal(signal.SIGALRM) is before
