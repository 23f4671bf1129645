"""Errors: the class per section, messages, fields, causes, __error__, and timeouts."""

from __future__ import annotations

import multiprocessing
import pickle
import signal
import time
import traceback

import pytest
from _support import TIMEOUT

from suitkaise import cerial
from suitkaise.processing import (
    ErrorHandlerError,
    OnFinishError,
    PostRunError,
    PreRunError,
    ProcessError,
    ProcessTimeoutError,
    ResultError,
    ResultTimeoutError,
    RunError,
    Skprocess,
    _handle,
)

# Every test runs under fork, forkserver and spawn.
pytestmark = pytest.mark.usefixtures("start_method")


def fetch_from_api():
    raise ConnectionError("Failed to connect to server")


class FailsIn(Skprocess):
    """Fails in the section named `where`, on run `on` for the run sections."""

    def __init__(self, where, on=1, runs=3):
        self.where, self.on = where, on
        self.process_config.runs = runs
        self.count = 0
        self.onfinish_ran = False

    def _maybe_fail(self, section):
        every_run = section in ("prerun", "run", "postrun")
        if section == self.where and (not every_run or self.count == self.on):
            fetch_from_api()

    def __prerun__(self):
        self.count += 1
        self._maybe_fail("prerun")

    def __run__(self):
        self._maybe_fail("run")

    def __postrun__(self):
        self._maybe_fail("postrun")

    def __onfinish__(self):
        self.onfinish_ran = True
        self._maybe_fail("onfinish")

    def __result__(self):
        self._maybe_fail("result")
        return "fine"


@pytest.mark.parametrize(
    ("where", "error", "message"),
    [
        ("prerun", PreRunError, "Error in __prerun__ on run 2"),
        ("run", RunError, "Error in __run__ on run 2"),
        ("postrun", PostRunError, "Error in __postrun__ on run 2"),
        ("onfinish", OnFinishError, "Error in __onfinish__ after run 3"),
        ("result", ResultError, "Error in __result__ after run 3"),
    ],
)
def test_each_section_has_its_error(where, error, message):
    p = FailsIn(where, on=2)
    p.start()
    assert p.wait(timeout=TIMEOUT) is True  # a reported error does not make wait() raise
    with pytest.raises(error) as info:
        p.result()
    e = info.value
    assert str(e) == message
    assert isinstance(e, ProcessError)
    assert type(e.original_error) is ConnectionError
    assert e.original_error.args == ("Failed to connect to server",)
    assert e.current_run == int(message[-1])
    assert p.onfinish_ran is True  # cleanup runs after an error too


def test_error_carries_the_child_traceback_as_cause():
    p = FailsIn("run", on=1)
    with pytest.raises(RunError, match=r"^Error in __run__ on run 1$") as info:
        p.run()
    cause = info.value.__cause__
    assert cause is not None
    text = str(cause)
    assert "in __run__" in text and "in fetch_from_api" in text
    assert "ConnectionError: Failed to connect to server" in text
    assert "_runner.py" not in text  # the traceback starts in the user's code


def test_the_cause_shows_under_its_public_name():
    from suitkaise.processing import RemoteTraceback

    p = FailsIn("run", on=1)
    with pytest.raises(RunError) as info:
        p.run()
    assert type(info.value.__cause__) is RemoteTraceback
    assert RemoteTraceback.__module__ == "suitkaise.processing"
    shown = "".join(traceback.format_exception(info.value))
    assert "suitkaise.processing.RemoteTraceback: Traceback (most recent call last):" in shown
    assert "processing._errors" not in shown


def test_error_handler_value_is_the_result_and_gets_the_error():
    class Handled(Skprocess):
        def __init__(self):
            self.process_config.runs = 2

        def __run__(self):
            raise KeyError("missing")

        def __error__(self, error):
            return type(error).__name__, str(error), repr(error.original_error), error.current_run

    p = Handled()
    assert p.run() == ("RunError", "Error in __run__ on run 1", "KeyError('missing')", 1)
    assert p.__error__.timer.num_times == 1


def test_error_handler_without_argument():
    class Handled(Skprocess):
        def __run__(self):
            raise KeyError("missing")

        def __error__(self):
            return "recovered"

    assert Handled().run() == "recovered"


def test_error_handler_that_fails():
    class BadHandler(Skprocess):
        def __run__(self):
            raise KeyError("missing")

        def __error__(self):
            raise ValueError("handler broke")

    with pytest.raises(ErrorHandlerError) as info:
        BadHandler().run()
    e = info.value
    assert str(e) == "Error in __error__ after run 1"
    assert type(e.original_error) is ValueError
    assert any("RunError: Error in __run__ on run 1" in note for note in e.__notes__)


def test_onfinish_failure_after_a_run_error_keeps_the_first_error():
    class Both(FailsIn):
        def __onfinish__(self):
            raise OSError("cleanup failed too")

    p = Both("run", on=1)
    with pytest.raises(RunError) as info:
        p.run()
    assert any("cleanup failed too" in note for note in info.value.__notes__)


class Unsendable:
    def __reduce__(self):
        raise TypeError("this object refuses to travel")


def test_result_that_cannot_travel_is_a_result_error():
    class BadResult(Skprocess):
        def __init__(self):
            self.process_config.runs = 1

        def __run__(self):
            pass

        def __result__(self):
            return Unsendable()

    with pytest.raises(ResultError, match=r"its return value could not be serialized"):
        BadResult().run()


def test_final_state_that_cannot_travel_is_a_process_error():
    class BadState(Skprocess):
        def __init__(self):
            self.process_config.runs = 1

        def __run__(self):
            self.thing = Unsendable()

    not_sent = r"final state of .*BadState could not be sent back"
    with pytest.raises(ProcessError, match=not_sent) as info:
        BadState().run()
    assert type(info.value) is ProcessError


class UnpicklableError(Exception):
    def __init__(self):
        super().__init__("odd")
        self.payload = Unsendable()


def test_original_error_that_cannot_travel_is_replaced_by_its_description():
    class OddError(Skprocess):
        def __run__(self):
            raise UnpicklableError()

    with pytest.raises(RunError) as info:
        OddError().run()
    e = info.value
    assert type(e.original_error) is RuntimeError
    assert "UnpicklableError: odd" in str(e.original_error)
    assert any("could not be serialized" in note for note in e.__notes__)


def _only_in_parent():
    if multiprocessing.parent_process() is not None:
        raise ImportError("not available in the child")
    return "here"


class ParentOnly:
    def __reduce__(self):
        return (_only_in_parent, ())


def test_instance_that_cannot_load_in_the_child():
    class Loader(Skprocess):
        def __init__(self):
            self.thing = ParentOnly()

        def __run__(self):
            pass

    with pytest.raises(ProcessError, match=r"could not be loaded in its child process") as info:
        Loader().run()
    assert type(info.value) is ProcessError
    assert "not available in the child" in str(info.value)
    assert info.value.current_run == 0


@pytest.mark.parametrize(
    "error",
    [
        RunError("Error in __run__ on run 5", original_error=ConnectionError("x"), current_run=5),
        ProcessError("died", current_run=None),
        ProcessTimeoutError("Timeout in run after 5.0s on run 3", section="run", timeout=5.0,
                            current_run=3),
        ResultTimeoutError("late", timeout=1.5),
        ErrorHandlerError("Error in __error__ after run 1", original_error=ValueError(1),
                          current_run=1),
    ],
)
@pytest.mark.parametrize(
    "dumps, loads", [(cerial.serialize, cerial.deserialize), (pickle.dumps, pickle.loads)]
)
def test_errors_round_trip_with_their_fields(error, dumps, loads):
    error.add_note("a note")
    copy = loads(dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy).keys() == vars(error).keys()
    for key, value in vars(error).items():
        if isinstance(value, BaseException):
            assert type(getattr(copy, key)) is type(value) and getattr(copy, key).args == value.args
        else:
            assert getattr(copy, key) == value


def test_error_classes_and_modules():
    for cls in (PreRunError, RunError, PostRunError, OnFinishError, ResultError, ErrorHandlerError):
        assert issubclass(cls, ProcessError)
        assert cls.__module__ == "suitkaise.processing"
    assert issubclass(ProcessTimeoutError, TimeoutError)
    assert issubclass(ResultTimeoutError, TimeoutError)
    e = ProcessTimeoutError("t", section="run", timeout=1.0, current_run=2)
    fields = (e.section, e.timeout, e.current_run, e.run, e.original_error)
    assert fields == ("run", 1.0, 2, 2, None)


# -------------------------------------------------------------------------- timeouts


class Sleeps(Skprocess):
    def __init__(self, section, seconds=TIMEOUT, runs=2):
        setattr(self.process_config.timeouts, section, 0.2)
        self.process_config.runs = runs
        self.section = section
        self.seconds = seconds

    def _sleep(self, section):
        if section == self.section:
            time.sleep(self.seconds)

    def __prerun__(self):
        self._sleep("prerun")

    def __run__(self):
        self._sleep("run")

    def __onfinish__(self):
        self._sleep("onfinish")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("run", "Timeout in run after 0.2s on run 1"),
        ("prerun", "Timeout in prerun after 0.2s on run 1"),
        ("onfinish", "Timeout in onfinish after 0.2s (after run 2)"),
    ],
)
def test_section_timeout_interrupts_a_sleep(section, message):
    started = time.monotonic()
    with pytest.raises(ProcessTimeoutError) as info:
        Sleeps(section).run()
    e = info.value
    assert str(e) == message
    assert e.section == section and e.timeout == 0.2
    assert e.current_run == (2 if section == "onfinish" else 1)
    assert time.monotonic() - started < TIMEOUT / 2


def test_timeout_goes_to_error_handler():
    class Handled(Sleeps):
        def __error__(self, error):
            return type(error).__name__, error.section

    assert Handled("run").run() == ("ProcessTimeoutError", "run")


def test_section_within_its_timeout_is_fine():
    p = Sleeps("run", seconds=0.001, runs=3)
    assert p.run() is None
    assert p.__run__.timer.num_times == 3


class IgnoresAlarm(Skprocess):
    """Blocks SIGALRM, so only the parent's watchdog can end its overlong section."""

    def __init__(self):
        self.process_config.timeouts.run = 0.1

    def __run__(self):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(TIMEOUT)

    def __error__(self):
        return "never called: the child is killed"


def test_watchdog_kills_a_child_stuck_past_its_deadline(monkeypatch):
    monkeypatch.setattr(_handle, "WATCHDOG_GRACE", 0.3)
    p = IgnoresAlarm()
    p.start()
    started = time.monotonic()
    with pytest.raises(ProcessTimeoutError) as info:
        p.wait(timeout=TIMEOUT)
    assert str(info.value) == "Timeout in run after 0.1s on run 1"
    assert time.monotonic() - started < TIMEOUT / 2
    assert any("was killed" in note for note in info.value.__notes__)
    with pytest.raises(ProcessTimeoutError):
        p.result()  # __error__ could not run: the child was killed
