"""Helpers shared by the test suite.

TIMEOUT bounds every blocking call: large enough that only a deadlock reaches it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from suitkaise import cerial

TIMEOUT = 40.0
ROOT = Path(__file__).resolve().parent.parent
SRC = str(ROOT / "src")
EXAMPLES = ROOT / "examples"
START_METHODS = ("fork", "forkserver", "spawn")

# Runs an example as __main__ after choosing the start method (argv[1]), with the
# example's folder first on sys.path, as when it runs as a script.
_UNDER_METHOD = """\
import runpy, sys
from suitkaise.processing import set_start_method
set_start_method(sys.argv[1])
path = sys.argv[2]
sys.argv = [path]
sys.path.insert(0, str(__import__("pathlib").Path(path).parent))
runpy.run_path(path, run_name="__main__")
"""

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


def run_threads(target: Callable[..., object], args_list: Iterable[tuple[Any, ...]]) -> None:
    """Call ``target(*args)`` for each *args* in a thread of its own, all at once, and
    wait for every thread (bounded); fail if one is still running after TIMEOUT."""
    threads = [threading.Thread(target=target, args=args) for args in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), f"{thread.name} did not finish within {TIMEOUT}s"


def run_example(path: Path, method: str | None = None,
                drop_env: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run the example script *path* in its own interpreter, as a user would (from the
    project root, the source tree on PYTHONPATH, without the variables *drop_env*);
    with *method*, under that start method. Output is captured as text."""
    env = {k: v for k, v in os.environ.items() if k not in drop_env}
    env["PYTHONPATH"] = SRC
    if method is None:
        argv = [sys.executable, str(path)]
    else:
        argv = [sys.executable, "-c", _UNDER_METHOD, method, str(path)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, env=env,
                          cwd=str(ROOT), check=False)


def assert_clean_run(done: subprocess.CompletedProcess[str]) -> None:
    """*done* exited with 0 and wrote nothing to stderr (its output shown if not)."""
    assert done.returncode == 0 and done.stderr == "", (
        f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    )


def assert_lines_in_order(out: str, patterns: list[str]) -> None:
    """Each regular expression of *patterns* matches a whole line of *out*, in this order
    (other lines may come between them)."""
    lines = out.splitlines()
    at = 0
    for pattern in patterns:
        regex = re.compile(pattern)
        for i in range(at, len(lines)):
            if regex.fullmatch(lines[i]):
                at = i + 1
                break
        else:
            raise AssertionError(f"no line matching {pattern!r} (in order) in the output:\n{out}")
