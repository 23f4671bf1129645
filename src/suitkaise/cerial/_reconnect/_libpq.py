"""What the two PostgreSQL drivers (psycopg 3 and psycopg2) share: both sit on libpq,
so a connection is described, and an open transaction reported, the same way."""

from __future__ import annotations

from typing import Any

__all__ = ("TRANSACTION_NOTE", "describe_libpq")

TRANSACTION_NOTE = (
    "a transaction was open when the connection was serialized: its uncommitted "
    "changes did not travel"
)


def describe_libpq(params: dict[str, Any]) -> str:
    """``host:port/dbname as user`` (or ``socket <path> db <dbname> ...``), for messages."""
    host, port = params.get("host") or "localhost", params.get("port") or 5432
    db, user = params.get("dbname"), params.get("user")
    if host.startswith("/"):  # a unix socket's directory
        where = f"socket {host}/.s.PGSQL.{port}" + (f" db {db}" if db else "")
    else:
        where = f"{host}:{port}" + (f"/{db}" if db else "")
    return f"{where} as {user}" if user else where
