"""Module locks that a forked child gets anew.

Only the thread that forks goes on in a child; a lock another thread of the parent
held at that moment (in the middle of a serialize call, say) stays held in the child
for ever, and the child's first use of it hangs. The pool forks replacement workers
from its dispatcher thread while the caller's thread may be serializing, so the module
locks of cerial (and of the code a worker runs) are reset in every forked child, as
the standard library resets its own (``_at_fork_reinit``: the lock is made unlocked
in place, with no Python code run in the child). The tables those locks guard change
by single dictionary operations, which a fork cannot cut in half.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ("renew_in_children",)


def renew_in_children(lock: Any) -> None:
    """Make *lock* (a ``threading.Lock`` or ``RLock``) unlocked in every child forked
    from now on (nothing where there is no fork)."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=lock._at_fork_reinit)
