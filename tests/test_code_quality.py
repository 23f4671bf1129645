"""The project stays lint- and type-clean: ``ruff check`` and ``mypy`` pass, with the
configuration in pyproject.toml.

Both run as subprocesses of this interpreter from the project root (the ``test`` extra
installs them); a test is skipped only when its tool is not installed. Their caches go
to a temporary folder, so every run checks the tree as it is and writes nothing to it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Bounds on each run (well below pytest's 60 s per test): a cold mypy run of the
# package takes ~6 s on one free core, ruff well under a second.
RUFF_TIMEOUT = 30.0
MYPY_TIMEOUT = 50.0


def _run(tool: str, *args: str, timeout: float) -> None:
    """Run ``python -m <tool> <args>`` from the project root; fail with its output."""
    if importlib.util.find_spec(tool) is None:
        pytest.skip(f"{tool} is not installed (pip install '.[test]' installs it)")
    done = subprocess.run(
        [sys.executable, "-m", tool, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"`{tool} {' '.join(args)}` exited with {done.returncode}:\n"
            f"{done.stdout}{done.stderr}",
            pytrace=False,
        )


def test_ruff_finds_nothing() -> None:
    _run("ruff", "check", "--no-cache", "src", "tests", "benchmarks", "examples",
         timeout=RUFF_TIMEOUT)


def test_mypy_finds_nothing(tmp_path: Path) -> None:
    _run("mypy", "--cache-dir", str(tmp_path / "mypy-cache"), "src/suitkaise",
         timeout=MYPY_TIMEOUT)
