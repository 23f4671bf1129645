"""Shared pieces of the Skprocess tests: the start-method fixture and process probes.

pytest finds the ``start_method`` fixture here by itself; every test that takes it
(or uses it through ``pytest.mark.usefixtures``) runs once per start method. The
helpers are plain functions: import them with ``from conftest import alive, ...``
(this directory is on ``sys.path`` while its tests run, as pytest's default
``prepend`` import mode puts it there, and its conftest is the one loaded last before
its test modules are imported).
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

from suitkaise.processing import set_start_method

__all__ = ("START_METHODS", "alive", "run_script", "start_method", "wait_gone")

START_METHODS = ("fork", "forkserver", "spawn")


@pytest.fixture(params=START_METHODS)
def start_method(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test under each start method in turn."""
    set_start_method(request.param)
    try:
        yield request.param
    finally:
        set_start_method(None)


def alive(pid: int) -> bool:
    """True while *pid* runs (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_gone(pids: list[int], timeout: float = TIMEOUT) -> list[int]:
    """Poll until every pid in *pids* is gone; return the ones still running."""
    deadline = time.monotonic() + timeout
    while True:
        left = [pid for pid in pids if alive(pid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def run_script(path: Path, body: str, *args: str) -> subprocess.Popen[str]:
    """Write *body* (dedented, with the source tree put on sys.path) to the script
    *path* and start it with this interpreter; stdout and stderr are pipes."""
    path.write_text(f"import sys\nsys.path.insert(0, {SRC!r})\n" + textwrap.dedent(body))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.Popen(
        [sys.executable, str(path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(path.parent),
    )
