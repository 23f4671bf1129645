"""Module locks that a forked child gets anew.

Only the thread that forks goes on in a child; a lock another thread of the parent
held at that moment (in the middle of a serialize call, say) stays held in the child
for ever, and the child's first use of it hangs. The pool forks replacement workers
from its dispatcher thread while the caller's thread may be serializing, so every
module lock of cerial (and of the code a worker runs) is replaced by a new one in each
forked child. The tables those locks guard change by single dictionary operations,
which a fork cannot cut in half.
"""

from __future__ import annotations

import os
from collections.abc import Callable

__all__ = ("renew_in_children",)


def renew_in_children(renew: Callable[[], None]) -> None:
    """Call *renew* -- which replaces a lock with a new one -- in every child forked
    from now on (nothing where there is no fork)."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=renew)
