"""``Share``: objects shared between processes through one coordinator process.

See :class:`Share` for the user's view, ``_api`` for the owner/client split,
``_coordinator`` for the server and its ordering guarantees, ``_client`` for one
connection, ``_proxy`` for the stand-ins of shared objects and ``_ops`` for how
``share.x += v`` becomes one atomic request.
"""

from __future__ import annotations

from ._api import Share
from ._errors import CoordinatorDiedError, ShareClosedError, ShareError

__all__ = ("CoordinatorDiedError", "Share", "ShareClosedError", "ShareError")
