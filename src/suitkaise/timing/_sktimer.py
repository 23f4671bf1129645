"""``Sktimer``: a thread-safe recorder of durations and their statistics."""

from __future__ import annotations

import math
import numbers
import statistics
import threading
import time
from typing import Any

from ._validate import check_seconds

__all__ = ("Sktimer",)


class Sktimer:
    """Record durations (in seconds) and report statistics over them.

    Durations come in three ways: :meth:`add_time` with a measured value,
    :meth:`start` then :meth:`stop`, or :meth:`start` then repeated
    :meth:`lap` calls. Every method is thread-safe, and each thread has its
    own running measurement, so several threads can ``start()``/``stop()``
    the same timer at once without mixing their start times.

    Statistics over an empty timer are ``None`` (``total_time`` is ``0.0``);
    ``stdev`` and ``variance`` are the *sample* values of
    :func:`statistics.stdev` / :func:`statistics.variance` and are ``None``
    until there are at least two times.

    A timer pickles (with :mod:`pickle` or ``cerial``) with its recorded
    times; running measurements started with :meth:`start` stay behind,
    because a start instant means nothing in another process.

    Example::

        >>> from suitkaise.timing import Sktimer
        >>> t = Sktimer()
        >>> t.add_time(0.5)
        >>> t.add_time(1.5)
        >>> t.num_times, t.mean, t.total_time
        (2, 1.0, 2.0)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._times: list[float] = []
        # One running measurement per thread: thread id -> perf_counter() at start/last lap.
        self._starts: dict[int, float] = {}

    # ----------------------------------------------------------------- recording

    def add_time(self, seconds: float) -> None:
        """Record one duration of *seconds* (a finite number, zero or more).

        Raises ``TypeError`` for a non-number and ``ValueError`` for a
        negative, NaN or infinite value.

        Example::

            >>> t = Sktimer()
            >>> t.add_time(0.25)
            >>> t.most_recent
            0.25
        """
        value = check_seconds(seconds, what="Sktimer.add_time() seconds")
        with self._lock:
            self._times.append(value)

    def start(self) -> float:
        """Start measuring in the calling thread and return the start instant.

        The instant is a :func:`time.perf_counter` reading. Calling ``start()``
        again before :meth:`stop` simply restarts the measurement.

        Example::

            >>> t = Sktimer()
            >>> _ = t.start()
            >>> elapsed = t.stop()
            >>> t.num_times
            1
        """
        now = time.perf_counter()
        with self._lock:
            self._starts[threading.get_ident()] = now
        return now

    def stop(self) -> float:
        """Record and return the time since this thread's :meth:`start`.

        Raises ``RuntimeError`` if the calling thread has not started the timer.

        Example::

            >>> t = Sktimer()
            >>> _ = t.start()
            >>> t.stop() >= 0
            True
        """
        now = time.perf_counter()
        with self._lock:
            started = self._starts.pop(threading.get_ident(), None)
            if started is None:
                raise RuntimeError(
                    "Sktimer.stop() called before start() in this thread; call start() first"
                )
            elapsed = now - started
            self._times.append(elapsed)
        return elapsed

    def lap(self) -> float:
        """Record and return the time since :meth:`start` or the last lap, then restart.

        Raises ``RuntimeError`` if the calling thread has not started the timer.

        Example::

            >>> t = Sktimer()
            >>> _ = t.start()
            >>> _ = t.lap()
            >>> _ = t.lap()
            >>> t.num_times
            2
        """
        now = time.perf_counter()
        ident = threading.get_ident()
        with self._lock:
            started = self._starts.get(ident)
            if started is None:
                raise RuntimeError(
                    "Sktimer.lap() called before start() in this thread; call start() first"
                )
            elapsed = now - started
            self._times.append(elapsed)
            self._starts[ident] = now
        return elapsed

    @property
    def running(self) -> bool:
        """Whether the calling thread has a measurement started and not yet stopped.

        Example::

            >>> t = Sktimer()
            >>> t.running
            False
            >>> _ = t.start(); t.running
            True
        """
        with self._lock:
            return threading.get_ident() in self._starts

    def reset(self) -> None:
        """Forget every recorded time and every running measurement.

        Example::

            >>> t = Sktimer()
            >>> t.add_time(1.0)
            >>> t.reset()
            >>> t.num_times
            0
        """
        with self._lock:
            self._times.clear()
            self._starts.clear()

    # ---------------------------------------------------------------- statistics

    def _snapshot(self) -> list[float]:
        with self._lock:
            return list(self._times)

    @property
    def times(self) -> list[float]:
        """A copy of every recorded time, oldest first.

        Example::

            >>> t = Sktimer(); t.add_time(1); t.add_time(2)
            >>> t.times
            [1.0, 2.0]
        """
        return self._snapshot()

    @property
    def num_times(self) -> int:
        """How many times have been recorded.

        Example::

            >>> Sktimer().num_times
            0
        """
        with self._lock:
            return len(self._times)

    @property
    def most_recent(self) -> float | None:
        """The last recorded time, or ``None`` if there is none.

        Example::

            >>> t = Sktimer(); t.add_time(3)
            >>> t.most_recent
            3.0
        """
        with self._lock:
            return self._times[-1] if self._times else None

    @property
    def total_time(self) -> float:
        """The sum of every recorded time (``0.0`` when empty).

        Example::

            >>> t = Sktimer(); t.add_time(1); t.add_time(2)
            >>> t.total_time
            3.0
        """
        return math.fsum(self._snapshot())

    @property
    def mean(self) -> float | None:
        """The arithmetic mean, or ``None`` when empty.

        Example::

            >>> t = Sktimer(); t.add_time(1); t.add_time(2)
            >>> t.mean
            1.5
        """
        times = self._snapshot()
        return statistics.fmean(times) if times else None

    @property
    def median(self) -> float | None:
        """The median (mean of the two middle values for an even count), or ``None``.

        Example::

            >>> t = Sktimer(); t.add_time(1); t.add_time(2); t.add_time(10)
            >>> t.median
            2.0
        """
        times = self._snapshot()
        return float(statistics.median(times)) if times else None

    @property
    def min(self) -> float | None:
        """The shortest recorded time, or ``None`` when empty.

        Example::

            >>> t = Sktimer(); t.add_time(2); t.add_time(1)
            >>> t.min
            1.0
        """
        times = self._snapshot()
        return min(times) if times else None

    @property
    def max(self) -> float | None:
        """The longest recorded time, or ``None`` when empty.

        Example::

            >>> t = Sktimer(); t.add_time(2); t.add_time(1)
            >>> t.max
            2.0
        """
        times = self._snapshot()
        return max(times) if times else None

    @property
    def variance(self) -> float | None:
        """The sample variance (as :func:`statistics.variance`), or ``None`` below two times.

        Example::

            >>> t = Sktimer(); t.add_time(1); t.add_time(3)
            >>> t.variance
            2.0
        """
        times = self._snapshot()
        return statistics.variance(times) if len(times) >= 2 else None

    @property
    def stdev(self) -> float | None:
        """The sample standard deviation (as :func:`statistics.stdev`), or ``None`` below two times.

        Example::

            >>> t = Sktimer(); t.add_time(1); t.add_time(3)
            >>> round(t.stdev, 4)
            1.4142
        """
        times = self._snapshot()
        return statistics.stdev(times) if len(times) >= 2 else None

    def percentile(self, p: float) -> float | None:
        """The *p*-th percentile (0 to 100) with linear interpolation, or ``None`` when empty.

        The rank of *p* is ``p / 100 * (n - 1)`` in the sorted times, and a
        fractional rank interpolates between its two neighbours (the default
        method of ``numpy.percentile``). ``percentile(0)`` is the minimum,
        ``percentile(50)`` the median, ``percentile(100)`` the maximum.
        Raises ``TypeError`` for a non-number and ``ValueError`` outside 0..100.

        Example::

            >>> t = Sktimer()
            >>> for s in (1, 2, 3, 4): t.add_time(s)
            >>> t.percentile(50), t.percentile(90)
            (2.5, 3.7)
        """
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise TypeError(
                f"Sktimer.percentile() p must be a number from 0 to 100, "
                f"got {type(p).__name__}: {p!r}"
            )
        if not 0 <= p <= 100:  # also refuses NaN
            raise ValueError(f"Sktimer.percentile() p must be from 0 to 100, got {p!r}")
        times = sorted(self._snapshot())
        if not times:
            return None
        rank = p / 100 * (len(times) - 1)
        low = math.floor(rank)
        high = min(low + 1, len(times) - 1)
        fraction = rank - low
        return times[low] + (times[high] - times[low]) * fraction

    # ------------------------------------------------------------ pickling, repr

    def __getstate__(self) -> dict[str, Any]:
        # The lock cannot travel, and a perf_counter() start instant is
        # meaningless in another process, so only the recorded times go.
        return {"times": self._snapshot()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._lock = threading.Lock()
        self._starts = {}
        self._times = [float(t) for t in state.get("times", ())]

    def __repr__(self) -> str:
        times = self._snapshot()
        if not times:
            return "Sktimer(num_times=0)"
        return f"Sktimer(num_times={len(times)}, mean={statistics.fmean(times):.6g}s)"
