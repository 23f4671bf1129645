"""The errors of ``Share``.

``ShareError`` is the base. ``ShareClosedError`` (also a :class:`ConnectionError`, so
existing ``except ConnectionError`` clauses catch it) says the coordinator cannot be
reached: the Share was exited, or its owner ended. ``CoordinatorDiedError`` narrows
that to a coordinator that ended without being asked to (killed, crashed).

An error raised by the shared object itself (``share.items.remove(x)`` on a missing
``x``, ``share.counter += "a"``) is not wrapped: it comes back as the original
exception type, with the coordinator's traceback as its ``__cause__``.
"""

from __future__ import annotations

__all__ = ("CoordinatorDiedError", "ShareClosedError", "ShareError")


class ShareError(Exception):
    """Base class of the errors ``Share`` raises itself (misuse, a value that cannot
    travel, a request the coordinator could not answer)."""


class ShareClosedError(ShareError, ConnectionError):
    """The Share's coordinator is not running: ``exit()`` was called (and ``start()``
    not yet), or the process that created the Share has ended. Raised by the request
    that found it so, and by an operation whose writes were cut off by ``exit()``."""


class CoordinatorDiedError(ShareClosedError):
    """The coordinator ended without being asked to (it was killed, or crashed) while
    this process was talking to it. Requests in flight may or may not have been
    applied."""
