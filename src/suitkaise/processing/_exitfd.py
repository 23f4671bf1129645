"""A descriptor that tells when one of our children has exited, even if it forked.

A ``multiprocessing`` sentinel is a pipe whose write end the child holds, and so does
every process the child forks: while such a grandchild lives on (a task's own
``os.fork()``, say), the child's death would go unseen. A pidfd (Linux 5.3+) becomes
readable when the process itself exits, whoever holds what.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ("exit_fd",)


def exit_fd(process: Any) -> tuple[int, bool]:
    """A descriptor that becomes readable once the started *process* has exited, and
    whether it is ours to close: a pidfd where the kernel has them, else the process's
    own sentinel (closed with the process)."""
    if hasattr(os, "pidfd_open"):
        try:
            return os.pidfd_open(process.pid), True
        except OSError:
            pass  # an older kernel, or no descriptor left: the sentinel
    sentinel: int = process.sentinel
    return sentinel, False
