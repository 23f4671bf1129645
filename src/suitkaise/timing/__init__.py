"""Timing tools: :class:`Sktimer`, :func:`timethis`, :func:`sleep` and :func:`time`.

Example::

    >>> from suitkaise import timing
    >>> t = timing.Sktimer()
    >>> with timing.timethis(t):
    ...     _ = timing.sleep(0.001)
    >>> t.num_times
    1
"""

from __future__ import annotations

from ._clock import sleep, time
from ._sktimer import Sktimer
from ._timethis import TimeThis, timethis

__all__ = ("Sktimer", "TimeThis", "sleep", "time", "timethis")
