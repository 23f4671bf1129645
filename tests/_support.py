"""Helpers shared by the test suite.

TIMEOUT bounds every blocking call: large enough that only a deadlock reaches it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from suitkaise import cerial

TIMEOUT = 40.0
SRC = str(Path(__file__).resolve().parent.parent / "src")
START_METHODS = ("fork", "forkserver", "spawn")

_ECHO = """
import sys
sys.path.insert(0, {src!r})
from suitkaise import cerial
func, args = cerial.deserialize(sys.stdin.buffer.read())
sys.stdout.buffer.write(cerial.serialize(func(*args)))
"""


def run_in_fresh_interpreter(func: Any, *args: Any) -> Any:
    """Call ``func(*args)`` in a new Python process that never imported the tests.

    ``func`` and ``args`` travel with cerial (so test-local functions and classes go by
    value), and the result comes back the same way.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", _ECHO.format(src=SRC)],
        input=cerial.serialize((func, args)),
        capture_output=True,
        timeout=TIMEOUT,
        env=env,
        cwd="/",
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"child failed:\n{done.stderr.decode(errors='replace')}")
    return cerial.deserialize(done.stdout)
