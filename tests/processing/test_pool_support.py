"""Shared pieces of the Pool tests: pools of their own, process probes.

The ``pool`` fixture (one pool per start method, shared by a module's tests) lives in
this folder's conftest; tests that break workers on purpose build their own pool with
``make_pool``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from _support import TIMEOUT
from process_probes import alive, run_script, wait_gone

from suitkaise.processing._pool import Pool

__all__ = ("alive", "children_of", "make_pool", "run_script", "wait_for", "wait_gone")


def make_pool(start_method: str = "fork", workers: int = 2, **options: object) -> Pool:
    """A pool of the test's own (one it may break), closed by the caller."""
    return Pool(workers, start_method=start_method, **options)  # type: ignore[arg-type]


def children_of(pid: int) -> list[int]:
    """The live child processes of *pid* (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(entry))
    return found


def wait_for(predicate: Callable[[], object], timeout: float = TIMEOUT,
             interval: float = 0.01) -> bool:
    """Poll *predicate* until it is true; False if *timeout* passed first."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
