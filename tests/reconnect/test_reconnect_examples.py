"""The autoreconnect examples run, against the servers they start, and print what they promise.

Every ``examples/autoreconnect_*.py`` but the servers module runs as a script in its
own interpreter (as a user would run it, with the default start method), and again
under ``spawn``. Each must exit 0, write nothing to stderr, and print the lines listed
for it in ``EXPECTED``, in order.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from _support import TIMEOUT, assert_clean_run, assert_lines_in_order, run_example
from reconnect_support import EXAMPLES, servers_module

FILES = sorted(p for p in EXAMPLES.glob("autoreconnect_*.py") if p.stem != "autoreconnect_servers")

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


def test_every_example_has_expectations():
    assert {path.name for path in FILES} == set(EXPECTED)


@pytest.mark.parametrize("method", [None, "spawn"], ids=["default", "spawn"])
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_example_runs(path, method):
    done = run_example(path, method, drop_env=("DB_PASSWORD",))
    assert_clean_run(done)
    assert_lines_in_order(done.stdout, EXPECTED[path.name])


def test_servers_stop_and_leave_nothing_behind():
    with servers_module.embedded_servers(timeout=TIMEOUT) as servers:
        root = Path(servers.pg_socket_dir).parent
        assert root.is_dir() and Path(servers.redis_socket).exists()
    assert not root.exists()
    for port in (servers.pg_port, servers.redis_port):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()
