"""Manual reconnect in ``__prerun__``: credentials read in the child, from its environment.

From the processing guide, "autoreconnect / Manual reconnect in __prerun__", against a
real PostgreSQL (``autoreconnect_servers.py`` starts one on this machine). No
decorator: ``__prerun__`` calls ``reconnect_all(self, ...)`` with the password from
``os.environ["DB_PASSWORD"]``, so the password is never part of the class or of
anything sent to the child. ``__prerun__`` runs before every run; once the connection
is live, ``reconnect_all`` finds no placeholder left and changes nothing.

Run it with ``python examples/autoreconnect_prerun.py``.
"""

from __future__ import annotations

import os
from typing import Any

import psycopg2
from autoreconnect_servers import embedded_servers

from suitkaise.cerial import reconnect_all
from suitkaise.processing import Skprocess


class MyProcess(Skprocess):
    def __init__(self, servers: Any) -> None:
        self.db = psycopg2.connect(**servers.postgres("app"), password=os.environ["DB_PASSWORD"])
        self.users: list[str] = []
        self.process_config.runs = 2

    def __prerun__(self) -> None:
        reconnect_all(self, **{
            "psycopg2.Connection": {
                "*": os.environ["DB_PASSWORD"],
            },
        })

    def __run__(self) -> None:
        cursor = self.db.cursor()
        cursor.execute("SELECT current_user")
        self.users.append(cursor.fetchone()[0])

    def __result__(self) -> list[str]:
        return self.users


def main() -> None:
    os.environ.setdefault("DB_PASSWORD", "secret")  # (the embedded server's password)
    with embedded_servers() as servers:
        process = MyProcess(servers)
        parents_db = process.db
        print(f"connected as, one entry per run: {process.run()}")
        parents_db.close()


if __name__ == "__main__":
    main()
