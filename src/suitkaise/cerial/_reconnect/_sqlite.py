"""``sqlite3.Connection``: travels as its database path and options.

The path comes from ``PRAGMA database_list`` (so it is absolute, whatever the working
directory), attached databases are attached again, and ``isolation_level``,
``row_factory`` and ``text_factory`` are restored. Uncommitted changes do not travel:
commit before sending. An in-memory (or temporary) database has no file to reopen:
``reconnect()`` gives a fresh, empty in-memory database and warns; the placeholder's
``note`` says so too. A closed connection comes back closed.
"""

from __future__ import annotations

import sqlite3
import warnings
from typing import Any

from .._registry import register
from ._base import Reconnector

__all__ = ("SqliteReconnector",)

_MEMORY_NOTE = (
    "in-memory sqlite3 database: its contents did not travel; reconnect() gives a "
    "fresh, empty in-memory database"
)


_CLOSED: dict[str, Any] = {
    "database": None,
    "in_memory": False,
    "attached": [],
    "isolation_level": None,
    "row_factory": None,
    "text_factory": str,
    "closed": True,
}


class SqliteReconnector(Reconnector):
    """Placeholder for a ``sqlite3.Connection``; ``reconnect()`` opens the file again."""

    type_key = "sqlite3.Connection"

    def describe(self) -> str:
        return "closed connection" if self.metadata["closed"] else super().describe()

    def _connect(self, password: str | None) -> sqlite3.Connection:
        meta = self.metadata
        if meta["closed"]:
            conn = sqlite3.connect(":memory:")
            conn.close()
            return conn
        if meta["in_memory"]:
            warnings.warn(
                f"{self.attr_name or 'sqlite3.Connection'}: {_MEMORY_NOTE}",
                RuntimeWarning,
                stacklevel=3,
            )
        conn = sqlite3.connect(
            ":memory:" if meta["in_memory"] else meta["database"],
            isolation_level=meta["isolation_level"],
        )
        try:
            for name, path in meta["attached"]:
                quoted = '"' + name.replace('"', '""') + '"'
                conn.execute(f"ATTACH DATABASE ? AS {quoted}", (path,))
            if meta["row_factory"] is not None:
                conn.row_factory = meta["row_factory"]
            if meta["text_factory"] is not str:
                conn.text_factory = meta["text_factory"]
        except BaseException:
            conn.close()
            raise
        return conn


@register(sqlite3.Connection, subclasses=True)
def _sqlite_connection_reduce(conn: sqlite3.Connection) -> tuple[Any, ...]:
    try:
        databases = conn.execute("PRAGMA database_list").fetchall()
    except sqlite3.ProgrammingError:  # closed
        return SqliteReconnector, (_CLOSED,), {"note": "the connection was closed"}
    main = next((path for _, name, path in databases if name == "main"), "")
    attached = [
        (name, path) for _, name, path in databases if name not in ("main", "temp") and path
    ]
    metadata = {
        "database": main or ":memory:",
        "in_memory": not main,
        "attached": attached,
        "isolation_level": conn.isolation_level,
        "row_factory": conn.row_factory,
        "text_factory": conn.text_factory,
        "closed": False,
    }
    return SqliteReconnector, (metadata,), {"note": _MEMORY_NOTE if not main else None}
