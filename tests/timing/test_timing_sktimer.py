"""Sktimer: statistics against the statistics module, threads, start/stop/lap, pickling."""

from __future__ import annotations

import copy
import math
import pickle
import statistics
import threading

import pytest
from _support import run_threads
from hypothesis import given, settings
from hypothesis import strategies as st

from suitkaise.timing import Sktimer

TIMEOUT = 10.0  # seconds; only a deadlock reaches it

durations = st.lists(
    st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=60,
)


def timer_with(times: list[float]) -> Sktimer:
    t = Sktimer()
    for s in times:
        t.add_time(s)
    return t


def reference_percentile(values: list[float], p: float) -> float:
    """A direct transcription of linear-interpolation percentiles (numpy's default)."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    lo, hi = int(math.floor(rank)), int(math.ceil(rank))
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


# ------------------------------------------------------------------ statistics


@settings(max_examples=60)
@given(durations)
def test_statistics_match_the_statistics_module(times: list[float]) -> None:
    t = timer_with(times)
    assert t.num_times == len(times)
    assert t.times == times
    assert t.mean == pytest.approx(statistics.fmean(times))
    assert t.median == pytest.approx(statistics.median(times))
    assert t.min == min(times)
    assert t.max == max(times)
    assert t.total_time == pytest.approx(math.fsum(times))
    assert t.most_recent == times[-1]
    if len(times) >= 2:
        assert t.variance == pytest.approx(statistics.variance(times))
        assert t.stdev == pytest.approx(statistics.stdev(times))
    else:
        assert t.variance is None
        assert t.stdev is None


@settings(max_examples=60)
@given(durations, st.floats(min_value=0, max_value=100))
def test_percentile_matches_linear_interpolation(times: list[float], p: float) -> None:
    t = timer_with(times)
    assert t.percentile(p) == pytest.approx(reference_percentile(times, p))


def test_percentile_known_values() -> None:
    t = timer_with([4.0, 1.0, 3.0, 2.0])
    assert t.percentile(0) == 1.0
    assert t.percentile(100) == 4.0
    assert t.percentile(50) == 2.5 == t.median
    assert t.percentile(90) == pytest.approx(3.7)
    assert t.percentile(25) == pytest.approx(1.75)
    assert timer_with([7.0]).percentile(33) == 7.0


def test_known_sample_variance() -> None:
    t = timer_with([2, 4, 4, 4, 5, 5, 7, 9])
    assert t.mean == 5.0
    assert t.variance == pytest.approx(32 / 7)
    assert t.stdev == pytest.approx(math.sqrt(32 / 7))


def test_empty_timer_statistics_are_none() -> None:
    t = Sktimer()
    assert t.num_times == 0
    assert t.times == []
    assert t.total_time == 0.0
    for name in ("mean", "median", "min", "max", "stdev", "variance", "most_recent"):
        assert getattr(t, name) is None, name
    assert t.percentile(50) is None


def test_one_sample_has_no_spread() -> None:
    t = timer_with([0.5])
    assert (t.mean, t.median, t.min, t.max) == (0.5, 0.5, 0.5, 0.5)
    assert t.stdev is None and t.variance is None


def test_times_is_a_copy() -> None:
    t = timer_with([1.0])
    t.times.append(99.0)
    assert t.times == [1.0]


def test_add_time_accepts_ints_and_zero() -> None:
    t = Sktimer()
    t.add_time(0)
    t.add_time(3)
    assert t.times == [0.0, 3.0]
    assert all(type(x) is float for x in t.times)


# ------------------------------------------------------------ argument errors


@pytest.mark.parametrize("bad", ["x", None, [1.0], True, 1 + 2j])
def test_add_time_rejects_non_numbers(bad: object) -> None:
    with pytest.raises(TypeError, match="add_time"):
        Sktimer().add_time(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        -0.001,
        -5,
        float("nan"),
        float("inf"),
        pytest.param(10**400, id="int-beyond-float"),
        pytest.param(-(10**400), id="negative-int-beyond-float"),
    ],
)
def test_add_time_rejects_bad_values(bad: float) -> None:
    with pytest.raises(ValueError, match="add_time"):
        Sktimer().add_time(bad)


@pytest.mark.parametrize("bad", [-0.1, 100.1, float("nan")])
def test_percentile_out_of_range(bad: float) -> None:
    with pytest.raises(ValueError, match="0 to 100"):
        timer_with([1.0]).percentile(bad)


@pytest.mark.parametrize("bad", ["50", None, True])
def test_percentile_rejects_non_numbers(bad: object) -> None:
    with pytest.raises(TypeError, match="percentile"):
        timer_with([1.0]).percentile(bad)  # type: ignore[arg-type]


def test_stop_and_lap_without_start_raise() -> None:
    t = Sktimer()
    with pytest.raises(RuntimeError, match="before start"):
        t.stop()
    with pytest.raises(RuntimeError, match="before start"):
        t.lap()
    assert t.num_times == 0


# ------------------------------------------------------------ start/stop/lap


def test_start_stop_records_elapsed() -> None:
    t = Sktimer()
    assert not t.running
    t.start()
    assert t.running
    elapsed = t.stop()
    assert not t.running
    assert elapsed >= 0
    assert t.times == [elapsed]
    with pytest.raises(RuntimeError):
        t.stop()  # a stop ends the measurement


def test_lap_records_and_restarts() -> None:
    t = Sktimer()
    t.start()
    first = t.lap()
    second = t.lap()
    assert t.running
    last = t.stop()
    assert t.times == [first, second, last]


def test_start_again_restarts() -> None:
    t = Sktimer()
    t.start()
    t.start()
    t.stop()
    assert t.num_times == 1


def test_reset_forgets_times_and_running_measurements() -> None:
    t = timer_with([1.0, 2.0])
    t.start()
    t.reset()
    assert t.num_times == 0
    assert t.mean is None
    assert not t.running
    with pytest.raises(RuntimeError):
        t.stop()


# ------------------------------------------------------------------- threads


def test_concurrent_add_time_loses_nothing() -> None:
    t = Sktimer()
    n_threads, per_thread = 8, 1000
    barrier = threading.Barrier(n_threads, timeout=TIMEOUT)

    def work() -> None:
        barrier.wait()
        for _ in range(per_thread):
            t.add_time(0.001)

    run_threads(work, [()] * n_threads)
    assert t.num_times == n_threads * per_thread
    assert t.total_time == pytest.approx(n_threads * per_thread * 0.001)


def test_each_thread_has_its_own_measurement() -> None:
    t = Sktimer()
    started_in_a = threading.Event()
    b_done = threading.Event()
    errors: list[BaseException] = []

    def thread_a() -> None:
        try:
            t.start()
            started_in_a.set()
            if not b_done.wait(TIMEOUT):
                raise RuntimeError("thread B never finished")
            t.stop()  # A's own start is still there after B's start/stop
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    def thread_b() -> None:
        try:
            if not started_in_a.wait(TIMEOUT):
                raise RuntimeError("thread A never started")
            assert not t.running  # A's measurement is not B's
            t.start()
            t.stop()
        except BaseException as exc:
            errors.append(exc)
        finally:
            b_done.set()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(TIMEOUT)
    assert errors == []
    assert t.num_times == 2
    # B's interval lies inside A's, so A's is the longer one.
    assert t.times[1] >= t.times[0]


# ------------------------------------------------------------------ pickling


def test_pickle_round_trip_keeps_times_and_works() -> None:
    t = timer_with([1.0, 2.0, 3.0])
    t.start()  # a running measurement does not travel
    clone = pickle.loads(pickle.dumps(t))
    assert clone.times == [1.0, 2.0, 3.0]
    assert clone.mean == 2.0
    assert not clone.running
    clone.add_time(4.0)
    clone.start()
    clone.stop()
    assert clone.num_times == 5
    assert t.num_times == 3  # independent of the original


def test_copy_and_deepcopy() -> None:
    t = timer_with([1.0])
    for clone in (copy.copy(t), copy.deepcopy(t)):
        clone.add_time(2.0)
        assert clone.times == [1.0, 2.0]
    assert t.times == [1.0]


def test_getstate_holds_no_lock() -> None:
    state = timer_with([1.0]).__getstate__()
    assert state == {"times": [1.0]}


def test_repr_shows_count_and_mean() -> None:
    assert repr(Sktimer()) == "Sktimer(num_times=0)"
    r = repr(timer_with([1.0, 2.0]))
    assert "num_times=2" in r and "mean=1.5" in r
