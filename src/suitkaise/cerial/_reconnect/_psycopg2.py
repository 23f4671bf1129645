"""``psycopg2`` connections: travel as their libpq parameters and session settings.

Password-map key: ``"psycopg2.Connection"`` (the spec's spelling). The class really is
``psycopg2.extensions.connection``, and that spelling is accepted too.

What travels: the parameters libpq reports for the connection (host, port, dbname,
user, sslmode, application_name, connect_timeout, ...) minus every secret (the
password, ``sslpassword``), the session settings (``autocommit``, ``isolation_level``,
``readonly``, ``deferrable``), ``cursor_factory`` and the connection class (so
``psycopg2.extras`` connection classes come back as themselves). What does not: an open
transaction (commit before sending), server-side state (temporary tables, prepared
statements, ``SET`` parameters), notices and notifications.

``reconnect(password)`` connects at once, so a wrong password or an unreachable server
fails right there, in ``reconnect_all``. Without a password (``None``) libpq looks
where it always does: ``PGPASSWORD``, ``~/.pgpass``, or a server that needs none. A
connection that was closed stays a placeholder in ``reconnect_all``; its
``reconnect()`` still opens a new one.
"""

from __future__ import annotations

from typing import Any

import psycopg2  # type: ignore[import-untyped,unused-ignore]
import psycopg2.extensions  # type: ignore[import-untyped,unused-ignore]

from .._registry import register
from ._base import Reconnector, without_secrets
from ._libpq import TRANSACTION_NOTE, describe_libpq

__all__ = ("Psycopg2Reconnector",)

_CLOSED_NOTE = (
    "the connection was closed when it was serialized: reconnect_all() leaves it "
    "closed (a placeholder); call .reconnect(password) to open a new one"
)


class Psycopg2Reconnector(Reconnector):
    """Placeholder for a ``psycopg2`` connection; ``reconnect()`` connects again.

    ``metadata["params"]`` holds the libpq parameters (no secrets), ``metadata["session"]``
    the session settings, ``metadata["factory"]`` the connection class.
    """

    type_key = "psycopg2.Connection"
    type_aliases = ("psycopg2.extensions.connection",)

    def describe(self) -> str:
        return describe_libpq(self.metadata["params"])

    def _connect(self, password: str | None) -> Any:
        meta = self.metadata
        params = dict(meta["params"])
        if password is not None:
            params["password"] = password
        conn = psycopg2.connect(connection_factory=meta["factory"], **params)
        try:
            for name, value in meta["session"].items():
                setattr(conn, name, value)
        except BaseException:
            conn.close()
            raise
        return conn


@register(psycopg2.extensions.connection, subclasses=True)
def _psycopg2_connection_reduce(conn: Any) -> tuple[Any, ...]:
    factory = None if type(conn) is psycopg2.extensions.connection else type(conn)
    if conn.closed:
        # libpq no longer answers; the dsn string has the password masked ("xxx").
        params = without_secrets(psycopg2.extensions.parse_dsn(conn.dsn))
        metadata = {"params": params, "session": {}, "factory": factory, "closed": True}
        return Psycopg2Reconnector, (metadata,), {"note": _CLOSED_NOTE, "reconnectable": False}
    metadata = {
        "params": without_secrets(conn.get_dsn_parameters()),
        "session": {
            "autocommit": conn.autocommit,
            "isolation_level": conn.isolation_level,
            "readonly": conn.readonly,
            "deferrable": conn.deferrable,
            "cursor_factory": conn.cursor_factory,
        },
        "factory": factory,
        "closed": False,
    }
    idle = conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    return Psycopg2Reconnector, (metadata,), {"note": None if idle else TRANSACTION_NOTE}
