"""The README's demo runs and shows what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _support import TIMEOUT

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"


def test_demo_runs():
    done = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "returned [10, 20, 30]" in done.stdout
    assert "share.counter -> 8000" in done.stdout
    assert "killed by signal 9 (SIGKILL)" in done.stdout
    assert "children left running: 0" in done.stdout
