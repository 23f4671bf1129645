"""examples/share_worker.py runs as a script (default start method and spawn) and
prints what it promises, with nothing on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _support import SRC, TIMEOUT

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "share_worker.py"

_UNDER_METHOD = """\
import runpy, sys
from suitkaise.processing import set_start_method
set_start_method(sys.argv[1])
path = sys.argv[2]
sys.argv = [path]
runpy.run_path(path, run_name="__main__")
"""

EXPECTED = [
    "final count: 109",
    "timer: 109 times, 10.9 s in all",
    "after exit(): counter is still 109",
    "after clear(): has a counter? False",
    "4 workers x 1000 increments: 4000",
    "list: 4000 items, 1000 from worker a",
    "after the with block: 4001 (read locally; the Share is stopped)",
]


@pytest.mark.parametrize("method", ["default", "spawn"])
def test_share_worker_example(method):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = SRC
    if method == "default":
        command = [sys.executable, str(EXAMPLE)]
    else:
        command = [sys.executable, "-c", _UNDER_METHOD, method, str(EXAMPLE)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=env,
                          cwd=str(EXAMPLE.parent), check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines() == EXPECTED
