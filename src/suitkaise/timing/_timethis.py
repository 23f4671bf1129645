"""``timethis``: time calls or ``with`` blocks into an :class:`Sktimer`."""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar, overload

from ._sktimer import Sktimer

__all__ = ("TimeThis", "timethis")

F = TypeVar("F", bound=Callable[..., Any])


def _is_timer(obj: object) -> bool:
    # Duck-typed so that a proxy of a shared Sktimer (``share.timer``) works too; a
    # class (``timethis(Sktimer)``) has add_time() too, but is not a timer.
    return not isinstance(obj, type) and callable(getattr(obj, "add_time", None))


class TimeThis:
    """A decorator and context manager that records durations into one timer.

    Made by :func:`timethis`; see there. The timer is :attr:`timer`. One
    ``TimeThis`` can be entered from several threads and nested in itself:
    each ``with`` keeps its own start instant.
    """

    def __init__(self, timer: Any | None = None) -> None:
        if timer is None:
            timer = Sktimer()
        elif not _is_timer(timer):
            hint = " (an instance, not the class: Sktimer())" if isinstance(timer, type) else ""
            raise TypeError(
                "timethis() takes an Sktimer (or an object with add_time()), "
                f"got {type(timer).__name__}: {timer!r}{hint}"
            )
        self.timer = timer
        self._local = threading.local()

    # ------------------------------------------------------------ context manager

    def __enter__(self) -> Any:
        stack = getattr(self._local, "starts", None)
        if stack is None:
            stack = self._local.starts = []
        stack.append(time.perf_counter())
        return self.timer

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Recorded even when the block raised: the time was still spent.
        elapsed = time.perf_counter() - self._local.starts.pop()
        self.timer.add_time(elapsed)

    # ------------------------------------------------------------------ decorator

    def __call__(self, func: F) -> F:
        if not callable(func):
            raise TypeError(f"timethis() decorates a callable, got {type(func).__name__}: {func!r}")
        timer = self.timer
        wrapper: Any
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter()
                try:
                    return await func(*args, **kwargs)
                finally:
                    timer.add_time(time.perf_counter() - start)

        else:

            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter()
                try:
                    return func(*args, **kwargs)
                finally:
                    timer.add_time(time.perf_counter() - start)

        wrapper.timer = timer
        return wrapper

    def __repr__(self) -> str:
        return f"timethis({self.timer!r})"


@overload
def timethis(timer: F) -> F: ...
@overload
def timethis(timer: Sktimer | None = None) -> TimeThis: ...


def timethis(timer: Any = None) -> Any:
    """Time each call of a function, or each ``with`` block, into an :class:`Sktimer`.

    As a decorator, ``@timethis()`` gives the function a fresh timer and
    ``@timethis(my_timer)`` records into *my_timer*; either way the wrapped
    function's ``.timer`` attribute is that timer. Bare ``@timethis`` works
    too. As a context manager, ``with timethis(t):`` records the block's
    duration into *t*, and ``with timethis() as t:`` makes a new timer. A
    call or block that raises is still recorded. Durations come from
    :func:`time.perf_counter`; ``async def`` functions are timed up to the
    end of their ``await``.

    Example::

        >>> from suitkaise.timing import Sktimer, timethis
        >>> @timethis()
        ... def work():
        ...     return sum(range(100))
        >>> _ = work(); _ = work()
        >>> work.timer.num_times
        2
        >>> t = Sktimer()
        >>> with timethis(t):
        ...     _ = sum(range(100))
        >>> t.num_times
        1
    """
    if timer is not None and callable(timer) and not hasattr(timer, "add_time"):
        # Bare ``@timethis`` (no parentheses): *timer* is the function itself.
        return TimeThis()(timer)
    return TimeThis(timer)
