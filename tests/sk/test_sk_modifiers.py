"""The five sk modifiers on functions and on bound methods of @sk classes."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from typing import Any

import pytest
from _support import run_threads

import suitkaise.sk
import suitkaise.sk._runners as runners
from suitkaise.sk import SkTimeoutError, sk

TIMEOUT = 10.0  # seconds; only a deadlock reaches it


@sk
def add(a: int, b: int = 0) -> int:
    """Adds two numbers."""
    return a + b


@sk
class Counter:
    """A counter whose public methods get the modifiers."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def bump(self, by: int = 1) -> int:
        with self.lock:
            self.calls += by
            return self.calls

    def block_on(self, event: threading.Event) -> str:
        if not event.wait(TIMEOUT):
            raise RuntimeError("never released")
        return "released"


class FakeClock:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def monotonic(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)
            self.now += seconds


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(runners, "_monotonic", clock.monotonic)
    monkeypatch.setattr(runners, "_sleep", clock.sleep)
    return clock


# --------------------------------------------------------------- plain calls


def test_plain_call_is_unchanged() -> None:
    assert add(1, 2) == 3
    assert add(1, b=5) == 6
    c = Counter()
    assert c.bump() == 1
    assert c.bump(by=2) == 3


def test_metadata_is_kept() -> None:
    assert add.__name__ == "add"
    assert add.__qualname__ == "add"
    assert add.__doc__ == "Adds two numbers."
    assert add.__module__ == __name__
    assert add.__wrapped__(2, 3) == 5
    assert list(inspect.signature(add).parameters) == ["a", "b"]
    bound = Counter().bump
    assert bound.__name__ == "bump"
    assert list(inspect.signature(bound).parameters) == ["by"]


def test_modified_callables_look_like_the_original() -> None:
    timed = add.timeout(5)
    assert timed.__name__ == "add"
    assert timed.__doc__ == "Adds two numbers."
    assert list(inspect.signature(timed).parameters) == ["a", "b"]
    assert inspect.iscoroutinefunction(add.asynced())


# ------------------------------------------------------------------- timeout


def test_timeout_returns_result() -> None:
    assert add.timeout(TIMEOUT)(2, b=3) == 5
    assert Counter().bump.timeout(TIMEOUT)(by=4) == 4


def test_timeout_beyond_what_a_thread_can_wait_means_no_limit() -> None:
    # Regression: 1e300 reached Future.wait() and raised OverflowError; 10**400
    # overflowed float().
    slow = sk(lambda: time.sleep(0.05) or "done")
    assert slow.timeout(1e300)() == "done"
    assert slow.timeout(10**400)() == "done"


def test_timeout_none_and_infinity_mean_no_limit() -> None:
    assert add.timeout(None)(1, 1) == 2
    assert add.timeout(float("inf"))(1, 2) == 3


def test_timeout_raises_and_releases_the_caller() -> None:
    release = threading.Event()
    c = Counter()
    start = time.perf_counter()
    try:
        with pytest.raises(SkTimeoutError) as info:
            c.block_on.timeout(0.05)(release)
        assert time.perf_counter() - start < TIMEOUT
    finally:
        release.set()  # let the abandoned worker thread finish
    err = info.value
    assert isinstance(err, TimeoutError)
    assert err.seconds == 0.05
    assert err.name == "block_on"
    assert "block_on() did not finish within 0.05 seconds" in str(err)


def test_timeout_runs_in_another_thread() -> None:
    @sk
    def whoami() -> int:
        return threading.get_ident()

    assert whoami.timeout(TIMEOUT)() != threading.get_ident()


def test_timeout_passes_the_functions_own_errors_through() -> None:
    @sk
    def fails() -> None:
        raise TimeoutError("the function's own timeout")

    with pytest.raises(TimeoutError, match="own timeout") as info:
        fails.timeout(TIMEOUT)()
    assert not isinstance(info.value, SkTimeoutError)


def test_timeout_copies_context_variables() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

    @sk
    def read() -> str:
        return var.get()

    token = var.set("caller's value")
    try:
        assert read.timeout(TIMEOUT)() == "caller's value"
        assert read.background()().result(timeout=TIMEOUT) == "caller's value"
    finally:
        var.reset(token)


# ---------------------------------------------------------------- background


def test_background_returns_a_future_at_once() -> None:
    release = threading.Event()
    c = Counter()
    future = c.block_on.background()(release)
    assert isinstance(future, Future)
    assert not future.done()
    release.set()
    assert future.result(timeout=TIMEOUT) == "released"


def test_background_on_function_and_errors() -> None:
    assert add.background()(1, b=2).result(timeout=TIMEOUT) == 3

    @sk
    def fails() -> None:
        raise ValueError("in the background")

    future = fails.background()()
    with pytest.raises(ValueError, match="in the background"):
        future.result(timeout=TIMEOUT)


def test_background_calls_run_concurrently() -> None:
    barrier = threading.Barrier(3, timeout=TIMEOUT)

    @sk
    def meet() -> bool:
        barrier.wait()
        return True

    futures = [meet.background()() for _ in range(3)]
    assert [f.result(timeout=TIMEOUT) for f in futures] == [True, True, True]


# ------------------------------------------------------------------- asynced


def test_asynced_with_asyncio_run() -> None:
    assert asyncio.run(add.asynced()(4, b=5)) == 9
    c = Counter()
    assert asyncio.run(c.bump.asynced()(by=3)) == 3


def test_asynced_runs_off_the_event_loop() -> None:
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    @sk
    def meet() -> int:
        barrier.wait()  # both calls must be running at once
        return threading.get_ident()

    async def main() -> tuple[int, list[int]]:
        idents = await asyncio.wait_for(asyncio.gather(meet.asynced()(), meet.asynced()()), TIMEOUT)
        return threading.get_ident(), idents

    loop_thread, idents = asyncio.run(main())
    assert loop_thread not in idents
    assert len(set(idents)) == 2


def test_asynced_propagates_errors() -> None:
    @sk
    def fails() -> None:
        raise KeyError("async")

    with pytest.raises(KeyError):
        asyncio.run(fails.asynced()())


# --------------------------------------------------------------------- retry


def make_flaky(failures: int, error: type[Exception] = ConnectionError) -> Any:
    attempts: list[int] = []

    @sk
    def flaky() -> int:
        attempts.append(1)
        if len(attempts) <= failures:
            raise error(f"attempt {len(attempts)}")
        return len(attempts)

    flaky.attempts = attempts
    return flaky


def test_retry_until_success(fake_clock: FakeClock) -> None:
    flaky = make_flaky(2)
    assert flaky.retry(times=3)() == 3
    assert len(flaky.attempts) == 3
    assert fake_clock.sleeps == []  # delay 0: no sleeping


def test_retry_gives_up_with_the_last_error(fake_clock: FakeClock) -> None:
    flaky = make_flaky(10)
    with pytest.raises(ConnectionError, match="attempt 4") as info:
        flaky.retry(times=4)()
    assert len(flaky.attempts) == 4
    assert any("4 attempt(s)" in note for note in info.value.__notes__)


def test_retry_default_is_three_attempts(fake_clock: FakeClock) -> None:
    flaky = make_flaky(10)
    with pytest.raises(ConnectionError):
        flaky.retry()()
    assert len(flaky.attempts) == 3


def test_retry_backoff_sequence(fake_clock: FakeClock) -> None:
    flaky = make_flaky(10)
    with pytest.raises(ConnectionError):
        flaky.retry(times=4, delay=0.5, backoff=2.0)()
    assert fake_clock.sleeps == [0.5, 1.0, 2.0]  # none after the last attempt


def test_retry_real_delay_is_slept() -> None:
    flaky = make_flaky(2)
    start = time.perf_counter()
    assert flaky.retry(times=3, delay=0.01, backoff=1.5)() == 3
    assert time.perf_counter() - start >= 0.01 + 0.015


def test_retry_only_listed_exceptions(fake_clock: FakeClock) -> None:
    flaky = make_flaky(1, error=KeyError)
    with pytest.raises(KeyError):
        flaky.retry(times=5, exceptions=(ConnectionError, TimeoutError))()
    assert len(flaky.attempts) == 1
    flaky = make_flaky(1, error=KeyError)
    assert flaky.retry(times=2, exceptions=LookupError)() == 2


def test_retry_once_means_no_retry(fake_clock: FakeClock) -> None:
    flaky = make_flaky(1)
    with pytest.raises(ConnectionError):
        flaky.retry(times=1)()
    assert len(flaky.attempts) == 1


def test_retry_on_bound_method() -> None:
    c = Counter()
    assert c.bump.retry(times=2)(by=2) == 2


# ---------------------------------------------------------------- rate_limit


def test_rate_limit_spacing_real_clock() -> None:
    @sk
    def tick() -> float:
        return time.perf_counter()

    rate, n = 50.0, 6
    limited = tick.rate_limit(rate)
    start = time.perf_counter()
    stamps = [limited() for _ in range(n)]
    elapsed = time.perf_counter() - start
    # The limiter spaces the start slots; a late wake-up can shorten one observed
    # gap, but never the total span from the first slot to the last.
    assert elapsed >= (n - 1) / rate - 0.005
    assert stamps[-1] - start >= (n - 1) / rate - 0.005


def test_rate_limit_is_shared_across_calls_and_threads() -> None:
    @sk
    def noop() -> None:
        return None

    rate, n_threads, per_thread = 100.0, 4, 2
    barrier = threading.Barrier(n_threads, timeout=TIMEOUT)

    def work() -> None:
        barrier.wait()
        for _ in range(per_thread):
            noop.rate_limit(rate)()  # a fresh modified callable each time

    start = time.perf_counter()
    run_threads(work, [()] * n_threads)
    elapsed = time.perf_counter() - start
    assert elapsed >= (n_threads * per_thread - 1) / rate - 0.005


def test_rate_limit_exact_slots_with_fake_clock(fake_clock: FakeClock) -> None:
    @sk
    def noop() -> None:
        return None

    for _ in range(4):
        noop.rate_limit(10)()
    assert fake_clock.sleeps == pytest.approx([0.1, 0.1, 0.1])


def test_long_waits_sleep_in_steps_time_sleep_accepts(fake_clock: FakeClock) -> None:
    # Regression: a tiny rate or a huge retry delay passed time.sleep() a wait it
    # refuses (OverflowError / OSError) instead of waiting.
    f = sk(lambda: None)
    limited = f.rate_limit(1 / (3 * runners._MAX_SLEEP))
    limited()
    limited()
    assert fake_clock.sleeps == pytest.approx([runners._MAX_SLEEP] * 3)
    fake_clock.sleeps.clear()
    flaky = make_flaky(1)
    assert flaky.retry(times=2, delay=2.5 * runners._MAX_SLEEP)() == 2
    assert fake_clock.sleeps == pytest.approx([runners._MAX_SLEEP] * 2 + [runners._MAX_SLEEP / 2])


def test_rate_limit_after_idle_does_not_wait(fake_clock: FakeClock) -> None:
    @sk
    def noop() -> None:
        return None

    noop.rate_limit(10)()
    fake_clock.now += 5.0  # idle for a long time
    noop.rate_limit(10)()
    assert fake_clock.sleeps == []


def test_rate_limit_is_per_instance_for_methods(fake_clock: FakeClock) -> None:
    a, b = Counter(), Counter()
    a.bump.rate_limit(2)()
    b.bump.rate_limit(2)()  # another instance: its own limiter
    assert fake_clock.sleeps == []
    a.bump.rate_limit(2)()  # same instance, through a new bound object
    assert fake_clock.sleeps == pytest.approx([0.5])


# ------------------------------------------------------------ argument errors


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: add.timeout(-1), ValueError, "zero or more"),
        (lambda: add.timeout("a"), TypeError, "timeout"),
        (lambda: add.timeout(True), TypeError, "timeout"),
        (lambda: add.timeout(float("nan")), ValueError, "NaN"),
        (lambda: add.retry(times=0), ValueError, "1 or more"),
        (lambda: add.retry(times=2.5), TypeError, "int"),
        (lambda: add.retry(times="3"), TypeError, "int"),
        (lambda: add.retry(delay=-1), ValueError, "delay"),
        (lambda: add.retry(delay="1"), TypeError, "delay"),
        (lambda: add.retry(backoff=0), ValueError, "backoff"),
        (lambda: add.retry(exceptions=42), TypeError, "exceptions"),
        (lambda: add.retry(exceptions=()), TypeError, "exceptions"),
        (lambda: add.retry(exceptions=(ValueError, str)), TypeError, "exceptions"),
        (lambda: add.rate_limit(0), ValueError, "more than zero"),
        (lambda: add.rate_limit(-3), ValueError, "more than zero"),
        (lambda: add.rate_limit(float("inf")), ValueError, "finite"),
        (lambda: add.rate_limit("fast"), TypeError, "rate_limit"),
        (lambda: add.rate_limit(10**400), ValueError, "finite"),
        (lambda: add.retry(delay=10**400), ValueError, "delay"),
    ],
)
def test_modifier_arguments_are_checked(make: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()


def test_argument_errors_name_the_callable() -> None:
    with pytest.raises(ValueError, match=r"bump\.timeout\(\)"):
        Counter().bump.timeout(-1)


def test_wrong_modifier_arguments_name_the_call_and_help_shows_them() -> None:
    with pytest.raises(TypeError, match=r"add\.timeout\(\): missing a required argument"):
        add.timeout()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"bump\.background\(\): too many positional"):
        Counter().bump.background(1)  # type: ignore[call-arg]
    assert list(inspect.signature(add.timeout).parameters) == ["seconds"]
    assert add.retry.__qualname__ == "add.retry"


def test_timeout_zero_is_allowed() -> None:
    release = threading.Event()
    try:
        with pytest.raises(SkTimeoutError):
            Counter().block_on.timeout(0)(release)
    finally:
        release.set()


# ------------------------------------------------------------ interpreter exit

EXIT_SCRIPT = """
import asyncio, threading
from suitkaise.sk import sk, SkTimeoutError

forever = threading.Event()

@sk
def stuck():
    forever.wait()

stuck.background()()
try:
    stuck.timeout(0.01)()
except SkTimeoutError:
    pass

async def main():
    try:
        await asyncio.wait_for(stuck.asynced()(), 0.01)
    except TimeoutError:
        pass

asyncio.run(main())
print("exiting")
"""


def test_stuck_calls_never_hold_up_interpreter_exit() -> None:
    src = os.path.dirname(os.path.dirname(os.path.dirname(suitkaise.sk.__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "exiting"
