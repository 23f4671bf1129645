"""Process probes shared by the Skprocess tests: is a pid alive, wait for pids to go,
run a script in a child interpreter.

A module of its own with a unique name: child processes started under spawn and
forkserver import the test modules again, and a plain ``from conftest import ...``
there could find another directory's conftest first.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from _support import SRC, TIMEOUT

__all__ = ("alive", "run_script", "wait_gone")


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


def run_script(path: Path, body: str, *args: str, new_session: bool = False,
               dev: bool = False) -> subprocess.Popen[str]:
    """Write *body* (dedented, with the source tree put on sys.path) to the script
    *path* and start it with this interpreter; stdout and stderr are pipes.

    With *new_session* the script leads its own process group, so a signal can go to
    its whole group as Ctrl-C in a terminal does. With *dev* it runs in development
    mode with warnings as errors, so a leaked resource shows on its stderr.
    """
    path.write_text(f"import sys\nsys.path.insert(0, {SRC!r})\n" + textwrap.dedent(body))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    flags = ("-X", "dev", "-W", "error") if dev else ()
    return subprocess.Popen(
        [sys.executable, *flags, str(path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(path.parent),
        start_new_session=new_session,
    )
