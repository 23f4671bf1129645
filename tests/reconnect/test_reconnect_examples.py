"""The autoreconnect examples run, against the servers they start, and print what they promise.

Every ``examples/autoreconnect_*.py`` but the servers module runs as a script in its
own interpreter (as a user would run it, with the default start method), and again
under ``spawn``. Each must exit 0, write nothing to stderr, and print the lines listed
for it in ``EXPECTED``, in order. The interpreter imports the suitkaise under test.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from _support import TIMEOUT
from reconnect_support import EXAMPLES, servers_module

import suitkaise

FILES = sorted(p for p in EXAMPLES.glob("autoreconnect_*.py") if p.stem != "autoreconnect_servers")
SRC = str(Path(suitkaise.__file__).resolve().parents[1])

_UNDER_METHOD = """\
import runpy, sys
from suitkaise.processing import set_start_method
set_start_method(sys.argv[1])
path = sys.argv[2]
sys.argv = [path]
sys.path.insert(0, str(__import__("pathlib").Path(path).parent))
runpy.run_path(path, run_name="__main__")
"""

PLACEHOLDER = r"<Reconnector psycopg2\.Connection 127\.0\.0\.1:\d+/app as app>"
EXPECTED: dict[str, list[str]] = {
    "autoreconnect_basic.py": [
        re.escape("the server received: b'hello'"),
        re.escape("rows written by the child: [('the child',)]"),
        re.escape("after the run, in the parent: <Reconnector socket.socket closed>"),
    ],
    "autoreconnect_credentials.py": [
        "process.db travels as: " + PLACEHOLDER,
        re.escape("db: ('app', 'app')"),
        re.escape("analytics_db: ('analytics', 'analytics')"),
        re.escape("cache visits: 1"),
        "after the run, in the parent: " + PLACEHOLDER,
    ],
    "autoreconnect_prerun.py": [
        re.escape("connected as, one entry per run: ['app', 'app']"),
    ],
}


def run_example(path: Path, method: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    env.pop("DB_PASSWORD", None)
    argv = [sys.executable, str(path)] if method is None else [
        sys.executable, "-c", _UNDER_METHOD, method, str(path)
    ]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False,
        cwd=str(EXAMPLES.parent),
    )


def test_every_example_has_expectations():
    assert {path.name for path in FILES} == set(EXPECTED)


@pytest.mark.parametrize("method", [None, "spawn"], ids=["default", "spawn"])
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_example_runs(path, method):
    done = run_example(path, method)
    assert done.returncode == 0, (
        f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    )
    assert done.stderr == "", done.stderr
    lines, at = done.stdout.splitlines(), 0
    for pattern in EXPECTED[path.name]:
        for i in range(at, len(lines)):
            if re.fullmatch(pattern, lines[i]):
                at = i + 1
                break
        else:
            raise AssertionError(f"no line matching {pattern!r} (in order) in:\n{done.stdout}")


def test_servers_stop_and_leave_nothing_behind():
    with servers_module.embedded_servers(timeout=TIMEOUT) as servers:
        root = Path(servers.pg_socket_dir).parent
        assert root.is_dir() and Path(servers.redis_socket).exists()
    assert not root.exists()
    for port in (servers.pg_port, servers.redis_port):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()
