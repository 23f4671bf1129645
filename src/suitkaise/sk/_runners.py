"""The default implementations of the modifiers, and the checks on their arguments.

Threads: every ``timeout()``, ``background()`` and ``asynced()`` call runs the
callable in a new *daemon* thread of its own rather than in a shared pool::

    caller ──start──> [daemon thread: fn(*args)] ──result/exception──> Future
      │                                                              │
      ├─ timeout():    wait on the Future up to `seconds`, then SkTimeoutError
      ├─ background(): hand the Future back at once
      └─ asynced():    await asyncio.wrap_future(Future)

A pool would be cheaper per call, but these calls block by nature (waiting
on processes, results, I/O): a pool could fill up with calls that have timed
out yet keep running, or deadlock when one background call waits on
another, and its non-daemon workers would hold up interpreter exit. A daemon
thread costs tens of microseconds to start, never blocks exit, and a call
that never returns only costs its own thread. ``asynced()`` uses the same
thread instead of ``asyncio.to_thread`` for the same reason: the loop's
default executor is joined when ``asyncio.run`` ends, so one stuck call
whose awaiting task was cancelled would hang the program there.
"""

from __future__ import annotations

import contextvars
import math
import numbers
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as _wait_futures
from typing import Any, TypeVar

from ._errors import SkTimeoutError

__all__ = (
    "RateLimiter",
    "check_exceptions",
    "check_timeout",
    "run_async",
    "run_with_retry",
    "run_with_timeout",
    "start_in_thread",
)

R = TypeVar("R")

# Looked up at call time so tests can replace them with a fake clock.
_sleep = time.sleep
_monotonic = time.monotonic
# time.sleep() refuses waits near threading.TIMEOUT_MAX; longer waits go in steps.
_MAX_SLEEP = 24 * 3600.0


# ------------------------------------------------------------------ argument checks


def _check_real(value: object, *, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a number, got {type(value).__name__}: {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range: as good as infinite
        number = -math.inf if value < 0 else math.inf
    if math.isnan(number):
        raise ValueError(f"{what} must be a number, got NaN")
    return number


def check_timeout(seconds: object, *, name: str) -> float | None:
    """Return the time limit as a float, or ``None`` for "no limit".

    ``None``, infinity and limits beyond what a thread can wait for
    (:data:`threading.TIMEOUT_MAX`, centuries) all mean no limit.
    """
    if seconds is None:
        return None
    number = _check_real(seconds, what=f"{name}.timeout() seconds")
    if number < 0:
        raise ValueError(f"{name}.timeout() seconds must be zero or more, got {number!r}")
    return None if number > threading.TIMEOUT_MAX else number


def check_retry(
    times: object, delay: object, backoff: object, exceptions: object, *, name: str
) -> tuple[int, float, float, tuple[type[BaseException], ...]]:
    """Check the arguments of ``retry()`` and return them normalised."""
    if isinstance(times, bool) or not isinstance(times, numbers.Integral):
        raise TypeError(
            f"{name}.retry() times must be an int (attempts in all), "
            f"got {type(times).__name__}: {times!r}"
        )
    if times < 1:
        raise ValueError(f"{name}.retry() times must be 1 or more (attempts in all), got {times!r}")
    delay_s = _check_real(delay, what=f"{name}.retry() delay")
    if delay_s < 0 or math.isinf(delay_s):
        raise ValueError(f"{name}.retry() delay must be finite and zero or more, got {delay_s!r}")
    factor = _check_real(backoff, what=f"{name}.retry() backoff")
    if factor <= 0 or math.isinf(factor):
        raise ValueError(
            f"{name}.retry() backoff must be finite and more than zero, got {factor!r}"
        )
    return int(times), delay_s, factor, check_exceptions(exceptions, name=name)


def check_exceptions(exceptions: object, *, name: str) -> tuple[type[BaseException], ...]:
    """Return *exceptions* (one exception class or a tuple of them) as a tuple."""
    items = exceptions if isinstance(exceptions, tuple) else (exceptions,)
    if not items or not all(
        isinstance(item, type) and issubclass(item, BaseException) for item in items
    ):
        raise TypeError(
            f"{name}.retry() exceptions must be an exception class or a non-empty "
            f"tuple of them, got {exceptions!r}"
        )
    return items


def check_rate(per_second: object, *, name: str) -> float:
    """Return the rate limit as a positive, finite float."""
    rate = _check_real(per_second, what=f"{name}.rate_limit() per_second")
    if rate <= 0 or math.isinf(rate):
        raise ValueError(
            f"{name}.rate_limit() per_second must be finite and more than zero, got {rate!r}"
        )
    return rate


# ---------------------------------------------------------------------- threads


def start_in_thread(
    fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any], *, name: str
) -> Future[R]:
    """Run ``fn(*args, **kwargs)`` in a new daemon thread and return its Future.

    The thread runs in a copy of the caller's :mod:`contextvars` context.
    Cancelling the Future before the thread starts the call skips the call.
    """
    future: Future[R] = Future()
    context = contextvars.copy_context()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            result = context.run(fn, *args, **kwargs)
        except BaseException as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)

    threading.Thread(target=run, name=f"sk:{name}", daemon=True).start()
    return future


def run_with_timeout(
    fn: Callable[..., R],
    seconds: float | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    name: str,
) -> R:
    """Call *fn* and return its result, or raise :class:`SkTimeoutError` after *seconds*."""
    if seconds is None:
        return fn(*args, **kwargs)
    future = start_in_thread(fn, args, kwargs, name=f"{name}.timeout")
    # wait() rather than future.result(timeout): fn may raise TimeoutError itself,
    # and that must reach the caller as fn's own error, not as ours.
    done, _ = _wait_futures((future,), timeout=seconds)
    if not done:
        raise SkTimeoutError(
            f"{name}() did not finish within {seconds:g} seconds "
            "(it goes on running in its thread)",
            name=name,
            seconds=seconds,
        )
    return future.result()


async def run_async(
    fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any], *, name: str
) -> R:
    """Await ``fn(*args, **kwargs)`` run in a daemon thread."""
    import asyncio  # here, not at the top: importing asyncio costs a process ~15 ms to start

    return await asyncio.wrap_future(start_in_thread(fn, args, kwargs, name=f"{name}.asynced"))


def _sleep_for(seconds: float) -> None:
    """Sleep *seconds*, however long (in steps that ``time.sleep`` accepts)."""
    while seconds > 0:
        step = min(seconds, _MAX_SLEEP)
        _sleep(step)
        seconds -= step


def run_with_retry(
    fn: Callable[..., R],
    times: int,
    delay: float,
    backoff: float,
    exceptions: tuple[type[BaseException], ...],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    name: str,
) -> R:
    """Call *fn* up to *times* times, sleeping ``delay * backoff**i`` after failure *i*."""
    for attempt in range(times):
        try:
            return fn(*args, **kwargs)
        except exceptions as exc:
            if attempt == times - 1:
                exc.add_note(
                    f"{name}() failed {times} attempt(s) under retry(); this is the last error"
                )
                raise
            try:
                pause = delay * backoff**attempt
            except OverflowError:
                pause = math.inf
            _sleep_for(pause)
    raise AssertionError("unreachable: retry() runs at least once")  # pragma: no cover


class RateLimiter:
    """Space the calls that go through it at least ``1 / per_second`` seconds apart.

    Each caller reserves the next free slot under a lock and then sleeps
    outside it until the slot comes, so concurrent callers queue up in
    order without holding the lock while they wait.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: float | None = None

    def wait(self, per_second: float) -> None:
        """Block until a call at *per_second* calls per second may start."""
        interval = 1.0 / per_second
        with self._lock:
            now = _monotonic()
            slot = now if self._last is None else max(now, self._last + interval)
            self._last = slot
        # Loop because a sleep can end a little early on coarse clocks.
        while (remaining := slot - _monotonic()) > 0:
            _sleep_for(remaining)
