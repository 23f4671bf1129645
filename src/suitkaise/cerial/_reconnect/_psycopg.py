"""``psycopg`` (version 3) connections: travel as their libpq parameters and settings.

Password-map key: ``"psycopg.Connection"``, the class's public name (psycopg's own
``__module__`` for it). Only the blocking ``psycopg.Connection`` (and its subclasses);
``AsyncConnection`` is not handled.

What travels: the parameters libpq was given (``conn.info.get_parameters()``: host,
port, dbname, user, options, ...) minus every secret (the password, ``sslpassword``),
``autocommit``, ``isolation_level``, ``read_only``, ``deferrable``,
``prepare_threshold``, ``row_factory``, ``cursor_factory`` and the connection class.
What does not: an open transaction (commit before sending), adapters registered on the
connection, server-side state (temporary tables, prepared statements, ``SET``).

``reconnect(password)`` connects at once, so a wrong password or an unreachable server
fails right there, in ``reconnect_all``; without a password libpq looks in
``PGPASSWORD`` and ``~/.pgpass``. A connection that was closed stays a placeholder in
``reconnect_all`` (its parameters are gone with it: psycopg cannot report them after
``close()``).
"""

from __future__ import annotations

from typing import Any

import psycopg
import psycopg.pq

from .._registry import register
from ._base import Reconnector, without_secrets
from ._libpq import TRANSACTION_NOTE, describe_libpq

__all__ = ("PsycopgReconnector",)

_CLOSED_NOTE = (
    "the connection was closed when it was serialized: reconnect_all() leaves it "
    "closed (a placeholder), and psycopg cannot report a closed connection's parameters"
)
#: Settings that only take effect when set on the open connection, outside a transaction.
_SET_AFTER = ("isolation_level", "read_only", "deferrable")


class PsycopgReconnector(Reconnector):
    """Placeholder for a ``psycopg.Connection``; ``reconnect()`` connects again.

    ``metadata["params"]`` holds the libpq parameters (no secrets), ``metadata["session"]``
    the settings, ``metadata["cls"]`` the connection class.
    """

    type_key = "psycopg.Connection"

    def describe(self) -> str:
        if self.metadata["closed"]:
            return "closed connection"
        return describe_libpq(self.metadata["params"])

    def _connect(self, password: str | None) -> Any:
        meta = self.metadata
        params = dict(meta["params"])
        if password is not None:
            params["password"] = password
        session = meta["session"]
        at_connect = {k: v for k, v in session.items() if k not in _SET_AFTER}
        conn = meta["cls"].connect(**at_connect, **params)
        try:
            for name in _SET_AFTER:
                if name in session:
                    setattr(conn, name, session[name])
        except BaseException:
            conn.close()
            raise
        return conn


@register(psycopg.Connection, subclasses=True)
def _psycopg_connection_reduce(conn: Any) -> tuple[Any, ...]:
    if conn.closed:
        metadata = {"params": {}, "session": {}, "cls": type(conn), "closed": True}
        return PsycopgReconnector, (metadata,), {"note": _CLOSED_NOTE, "reconnectable": False}
    metadata = {
        "params": without_secrets(conn.info.get_parameters()),
        "session": {
            "autocommit": conn.autocommit,
            "prepare_threshold": conn.prepare_threshold,
            "row_factory": conn.row_factory,
            "cursor_factory": conn.cursor_factory,
            "isolation_level": conn.isolation_level,
            "read_only": conn.read_only,
            "deferrable": conn.deferrable,
        },
        "cls": type(conn),
        "closed": False,
    }
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    return PsycopgReconnector, (metadata,), {"note": None if idle else TRANSACTION_NOTE}
