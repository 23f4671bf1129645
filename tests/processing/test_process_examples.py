"""The runnable examples in examples/ run and print what they promise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from _support import SRC, TIMEOUT

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_skprocess_basic_example():
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "skprocess_basic.py")],
        capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "child says: ('downloaded', 'blog')" in out
    assert "result: {'home': 400, 'about': 500, 'blog': 400}" in out
    assert "3 pages, 1300 bytes" in out
    assert "__run__ ran 3 times" in out
    assert "Process error: Error in __run__ on run 1" in out
    assert "Original error: ConnectionError('Failed to connect to server')" in out
