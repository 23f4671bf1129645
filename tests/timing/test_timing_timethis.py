"""timethis (decorator and context manager), sleep() and time()."""

from __future__ import annotations

import asyncio
import pickle
import threading
import time

import pytest
from _support import run_threads

from suitkaise import timing
from suitkaise.timing import Sktimer, TimeThis, timethis

TIMEOUT = 10.0


@timethis()
def module_level_timed(x: int) -> int:
    """Doubles x."""
    return x * 2


# ---------------------------------------------------------------- decorator


def test_decorator_gives_a_timer_attribute() -> None:
    @timethis()
    def work(x: int) -> int:
        return x + 1

    assert isinstance(work.timer, Sktimer)
    assert [work(i) for i in range(3)] == [1, 2, 3]
    assert work.timer.num_times == 3
    assert all(t >= 0 for t in work.timer.times)


def test_decorator_with_given_timer() -> None:
    shared = Sktimer()

    @timethis(shared)
    def a() -> None:
        pass

    @timethis(shared)
    def b() -> None:
        pass

    a()
    b()
    b()
    assert a.timer is shared and b.timer is shared
    assert shared.num_times == 3


def test_bare_decorator() -> None:
    @timethis
    def work() -> str:
        return "ok"

    assert work() == "ok"
    assert work.timer.num_times == 1


def test_decorator_keeps_metadata_and_pickles_by_reference() -> None:
    assert module_level_timed.__name__ == "module_level_timed"
    assert module_level_timed.__doc__ == "Doubles x."
    assert module_level_timed.__wrapped__(2) == 4
    assert pickle.loads(pickle.dumps(module_level_timed)) is module_level_timed


def test_decorator_records_failed_calls() -> None:
    @timethis()
    def boom() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        boom()
    assert boom.timer.num_times == 1


def test_decorator_measures_the_call() -> None:
    @timethis()
    def nap() -> None:
        time.sleep(0.02)

    nap()
    assert nap.timer.most_recent >= 0.02


def test_decorator_on_async_function_times_the_await() -> None:
    @timethis()
    async def nap() -> str:
        await asyncio.sleep(0.02)
        return "done"

    assert asyncio.run(nap()) == "done"
    assert nap.timer.num_times == 1
    assert nap.timer.most_recent >= 0.02


# ---------------------------------------------------------- context manager


def test_context_manager_records_into_given_timer() -> None:
    t = Sktimer()
    with timethis(t) as got:
        time.sleep(0.01)
    assert got is t
    assert t.num_times == 1
    assert t.most_recent >= 0.01


def test_context_manager_makes_a_timer() -> None:
    with timethis() as t:
        pass
    assert isinstance(t, Sktimer)
    assert t.num_times == 1


def test_context_manager_records_on_error() -> None:
    t = Sktimer()
    with pytest.raises(ValueError):
        with timethis(t):
            raise ValueError("inside")
    assert t.num_times == 1


def test_context_manager_is_reentrant_and_nests() -> None:
    t = Sktimer()
    block = timethis(t)
    with block:
        with block:
            time.sleep(0.005)
        time.sleep(0.005)
    assert t.num_times == 2
    inner, outer = t.times
    assert outer >= inner


def test_context_manager_shared_between_threads() -> None:
    t = Sktimer()
    block = timethis(t)
    barrier = threading.Barrier(4, timeout=TIMEOUT)

    def work() -> None:
        for _ in range(50):
            with block:
                pass
        barrier.wait()

    run_threads(work, [()] * 4)
    assert t.num_times == 200


def test_timethis_accepts_duck_typed_timers() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.seen: list[float] = []

        def add_time(self, seconds: float) -> None:
            self.seen.append(seconds)

    rec = Recorder()
    with timethis(rec):
        pass
    assert len(rec.seen) == 1


@pytest.mark.parametrize("bad", [42, "timer", 1.5])
def test_timethis_rejects_non_timers(bad: object) -> None:
    with pytest.raises(TypeError, match="Sktimer"):
        timethis(bad)  # type: ignore[call-overload]


def test_timethis_refuses_the_timer_class_itself() -> None:
    # Regression: the class has add_time() too, so it was taken as a timer and every
    # timed call then failed inside add_time().
    with pytest.raises(TypeError, match=r"instance, not the class"):
        timethis(Sktimer)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"instance, not the class"):
        TimeThis(Sktimer)


def test_timethis_rejects_decorating_non_callables() -> None:
    with pytest.raises(TypeError, match="callable"):
        TimeThis()(42)  # type: ignore[arg-type]


# ------------------------------------------------------------- sleep, time


def test_sleep_returns_time_after_sleeping() -> None:
    before = time.time()
    start = time.perf_counter()
    woke = timing.sleep(0.02)
    assert time.perf_counter() - start >= 0.02
    assert isinstance(woke, float)
    assert before <= woke <= time.time()


def test_sleep_zero() -> None:
    assert timing.sleep(0) <= time.time()


@pytest.mark.parametrize("bad, error", [(-1, ValueError), ("1", TypeError), (None, TypeError)])
def test_sleep_rejects_bad_seconds(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="sleep"):
        timing.sleep(bad)  # type: ignore[arg-type]


def test_time_is_wall_clock() -> None:
    before = time.time()
    now = timing.time()
    assert before <= now <= time.time()
