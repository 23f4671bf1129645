"""@autoreconnect() without credentials: a socket and a sqlite file, live again in the child.

From the processing guide, "autoreconnect / Basic usage": the process opens a TCP
connection (and a sqlite database) in ``__init__``, in the parent. Neither can travel
to the child process; both arrive there as Reconnector placeholders, and
``@autoreconnect()`` turns them back into a live socket (connected to the same server,
from a new local port) and a live connection to the same file, before ``__prerun__``.

Run it with ``python examples/autoreconnect_basic.py``.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import tempfile
from pathlib import Path

from suitkaise.processing import Skprocess, autoreconnect


@autoreconnect()
class MyProcess(Skprocess):
    def __init__(self, address: tuple[str, int], database: str) -> None:
        self.socket = socket.create_connection(address, timeout=10)  # becomes SocketReconnector
        self.db = sqlite3.connect(database)  # becomes SqliteReconnector
        self.process_config.runs = 1

    def __run__(self) -> None:
        # self.socket is a live socket again
        self.socket.send(b"hello")
        with self.db:
            self.db.execute("INSERT INTO visits VALUES ('the child')")

    def __postrun__(self) -> None:
        self.socket.close()
        self.db.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database = str(Path(tmp) / "visits.db")
        with contextlib.closing(sqlite3.connect(database)) as setup, setup:
            setup.execute("CREATE TABLE visits (who TEXT)")
        with socket.create_server(("127.0.0.1", 0)) as server:
            server.settimeout(10)
            process = MyProcess(server.getsockname(), database)
            # The parent keeps its own socket and connection (after the run, the
            # process's attributes are the child's final state: placeholders).
            parents_socket, parents_db = process.socket, process.db
            accepted, _ = server.accept()  # the parent's connection, made in __init__
            process.run()
            from_child, _ = server.accept()  # the child's new connection
            with accepted, from_child, parents_socket, contextlib.closing(parents_db):
                print(f"the server received: {from_child.recv(100)!r}")
        with contextlib.closing(sqlite3.connect(database)) as check:
            rows = check.execute("SELECT who FROM visits").fetchall()
        print(f"rows written by the child: {rows}")
        print(f"after the run, in the parent: {process.socket!r}")


if __name__ == "__main__":
    main()
