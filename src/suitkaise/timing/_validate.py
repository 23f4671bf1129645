"""Argument checks shared by the timing helpers."""

from __future__ import annotations

import math
import numbers

__all__ = ("check_seconds",)


def check_seconds(value: object, *, what: str) -> float:
    """Return *value* as a float, raising a clear error if it is not a duration.

    A duration is a finite real number that is zero or more; ``bool`` is
    refused even though it is an ``int``, because ``add_time(True)`` is
    always a mistake.
    """
    if type(value) is float and 0.0 <= value < math.inf:
        return value  # the common case (a measured time), without the ABC check below
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{what} must be a number of seconds (int or float), "
            f"got {type(value).__name__}: {value!r}"
        )
    try:
        seconds = float(value)
    except OverflowError:  # an int beyond float range
        seconds = -math.inf if value < 0 else math.inf
    if math.isnan(seconds) or math.isinf(seconds):
        raise ValueError(f"{what} must be a finite number of seconds, got {seconds!r}")
    if seconds < 0:
        raise ValueError(f"{what} must be zero or more seconds, got {seconds!r}")
    return seconds
