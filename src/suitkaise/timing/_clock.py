"""Wall-clock helpers: ``time()`` and a ``sleep()`` that says when it woke."""

from __future__ import annotations

import time as _time

from ._validate import check_seconds

__all__ = ("sleep", "time")


def time() -> float:
    """Return the current wall-clock time in seconds since the epoch (:func:`time.time`).

    Example::

        >>> from suitkaise import timing
        >>> timing.time() > 0
        True
    """
    return _time.time()


def sleep(seconds: float) -> float:
    """Sleep for *seconds* and return :func:`time.time` after waking.

    Raises ``TypeError`` for a non-number and ``ValueError`` for a negative,
    NaN or infinite value.

    Example::

        >>> from suitkaise import timing
        >>> woke = timing.sleep(0.01)
        >>> isinstance(woke, float)
        True
    """
    _time.sleep(check_seconds(seconds, what="sleep() seconds"))
    return _time.time()
