"""Shared pieces of the Pool tests: start-method fixtures, shared pools, process probes.

``pool`` is one pool per start method, shared by every test of a module that asks for
it (a pool is meant to be reused, and a spawn pool costs ~150 ms to start). Tests that
break workers on purpose build their own pool with ``make_pool``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _support import SRC, TIMEOUT
from process_probes import alive

from suitkaise.processing._pool import Pool

__all__ = (
    "START_METHODS",
    "alive",
    "children_of",
    "make_pool",
    "pool",
    "run_script",
    "start_method",
    "wait_for",
    "wait_gone",
)

START_METHODS = ("fork", "forkserver", "spawn")


@pytest.fixture(params=START_METHODS)
def start_method(request: pytest.FixtureRequest) -> str:
    """Run the test once per start method."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="module", params=START_METHODS)
def pool(request: pytest.FixtureRequest) -> Iterator[Pool]:
    """A 2-worker pool per start method, shared by the module's tests."""
    p = Pool(2, start_method=request.param)
    try:
        yield p
    finally:
        p.terminate()
        assert p.join(TIMEOUT)


def make_pool(start_method: str = "fork", workers: int = 2, **options: object) -> Pool:
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


def wait_for(predicate, timeout: float = TIMEOUT, interval: float = 0.01) -> bool:  # type: ignore[no-untyped-def]
    """Poll *predicate* until it is true; False if *timeout* passed first."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def wait_gone(pids: list[int], timeout: float = TIMEOUT) -> list[int]:
    """Poll until every pid in *pids* is gone; return the ones still running."""
    wait_for(lambda: not any(alive(p) for p in pids), timeout)
    return [p for p in pids if alive(p)]


def run_script(path: Path, body: str, *args: str, new_session: bool = False,
               flags: tuple[str, ...] = ("-X", "dev", "-W", "error")) -> subprocess.Popen[str]:
    """Write *body* (dedented, with the source tree on sys.path) to *path* and start it
    (in a session of its own with *new_session*, so a signal can go to its whole group,
    as Ctrl-C in a terminal does). By default it runs in development mode with warnings
    as errors, so a leaked resource shows on stderr."""
    path.write_text(f"import sys\nsys.path.insert(0, {SRC!r})\n" + textwrap.dedent(body))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.Popen(
        [sys.executable, *flags, str(path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(path.parent),
        start_new_session=new_session,
    )
