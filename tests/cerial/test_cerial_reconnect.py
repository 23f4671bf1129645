"""Reconnector placeholders and reconnect_all: sockets, sqlite, pipes, the password map."""

from __future__ import annotations

import collections
import dataclasses
import multiprocessing
import socket
import sqlite3
import weakref

import pytest
from _support import TIMEOUT, run_in_fresh_interpreter

from suitkaise import cerial
from suitkaise.cerial import ReconnectError, Reconnector, reconnect_all


def roundtrip(obj):
    return cerial.deserialize(cerial.serialize(obj))


class FakeReconnector(Reconnector):
    """A test-only resource: reconnect() reports what it was given."""

    type_key = "tests.FakeDriver"

    def _connect(self, password):
        if self.metadata.get("fail"):
            raise RuntimeError(f"auth failed for user bob with password {password}")
        return ("live", self.metadata["host"], self.attr_name, password)


def fake(host="db.local", **extra):
    return FakeReconnector({"host": host, "port": 5432, **extra})


# -- the password map -------------------------------------------------------------------


def test_password_map_attr_specific_beats_star():
    @dataclasses.dataclass
    class Service:
        primary: object
        replica: object
        extras: dict
        others: list

    svc = Service(fake(), fake(), {"audit": fake()}, [fake(), (fake(),)])
    out = reconnect_all(
        svc, **{"tests.FakeDriver": {"*": "default", "primary": "p1", "audit": "a1"}}
    )
    assert out is svc
    assert svc.primary == ("live", "db.local", "primary", "p1")
    assert svc.replica == ("live", "db.local", "replica", "default")
    assert svc.extras["audit"] == ("live", "db.local", "audit", "a1")
    assert svc.others[0][2:] == ("others", "default")
    assert isinstance(svc.others[1], tuple) and svc.others[1][0][2:] == ("others", "default")


def test_no_entry_means_no_password_and_top_level_returns_the_resource():
    assert reconnect_all(fake()) == ("live", "db.local", None, None)
    assert reconnect_all(fake(), **{"tests.FakeDriver": {"*": "pw"}})[3] == "pw"
    assert reconnect_all(fake(), **{"other.Type": {"*": "pw"}})[3] is None


def test_walk_covers_slots_namedtuples_frozen_sets_cycles_and_sharing():
    Pair = collections.namedtuple("Pair", "left right")

    class Slotted:
        __slots__ = ("conn", "__private")

        def __init__(self, conn):
            self.conn = conn
            self.__private = conn

        def private(self):
            return self.__private

    @dataclasses.dataclass(frozen=True)
    class Frozen:
        conn: object

    class Gone:
        pass

    shared = fake()
    graph = {"slotted": Slotted(shared), "pair": Pair(fake("left"), 1), "frozen": Frozen(fake("f"))}
    graph["dead proxy"] = weakref.proxy(Gone())
    graph["class"] = FakeReconnector  # classes are not entered
    graph["self"] = graph
    graph["set"] = {fake("in-set")}
    out = reconnect_all(graph, **{"tests.FakeDriver": {"*": "pw"}})
    assert out is graph and graph["self"] is graph
    assert graph["slotted"].conn is graph["slotted"].private()  # one placeholder, one resource
    assert graph["slotted"].conn[1:3] == ("db.local", "conn")
    assert type(graph["pair"]) is Pair and graph["pair"].left[1] == "left"
    assert graph["frozen"].conn[1] == "f"
    assert [item[1] for item in graph["set"]] == ["in-set"]


def test_walk_reads_stored_values_without_the_objects_getattr():
    # Regression: reconnect_all read attributes through the object's __getattr__, so
    # one that raises (here on the missing __dict__ of a slots class) broke the walk.
    class Strict:
        __slots__ = ("conn", "empty")

        def __init__(self, conn):
            self.conn = conn

        def __getattr__(self, name):
            raise RuntimeError(f"no {name}")

    obj = reconnect_all(Strict(fake()), **{"tests.FakeDriver": {"*": "pw"}})
    assert obj.conn == ("live", "db.local", "conn", "pw")


def test_too_deep_a_graph_is_a_clear_recursion_error():
    deep = [fake()]
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(RecursionError, match="reconnect_all"):
        reconnect_all(deep)


def test_password_map_is_validated():
    with pytest.raises(TypeError, match="must be a dict"):
        reconnect_all({}, **{"tests.FakeDriver": "pw"})
    with pytest.raises(TypeError, match="must be a str or None"):
        reconnect_all({}, **{"tests.FakeDriver": {"*": 1234}})
    with pytest.raises(TypeError, match="attribute names"):
        reconnect_all({}, **{"tests.FakeDriver": {1: "pw"}})
    with pytest.raises(TypeError, match="password must be a str"):
        fake().reconnect(password=b"bytes")


def test_metadata_refuses_secrets_and_errors_hide_the_password():
    with pytest.raises(ValueError, match="never hold a secret"):
        FakeReconnector({"host": "h", "password": "x"})
    with pytest.raises(TypeError, match="must be a dict"):  # was: 'int' is not iterable
        FakeReconnector(5)
    failing = fake(fail=True)
    with pytest.raises(ReconnectError) as info:
        reconnect_all({"db": failing}, **{"tests.FakeDriver": {"*": "s3cr3t-pw"}})
    message = str(info.value)
    assert "'db'" in message and "tests.FakeDriver" in message and "db.local:5432" in message
    assert "auth failed" in message and "s3cr3t-pw" not in message
    assert info.value.__cause__ is None  # the driver's own message quoted the password
    assert isinstance(info.value, ConnectionError) and isinstance(info.value, cerial.CerialError)


def test_serialized_bytes_never_contain_the_password():
    class Client:
        """A stand-in for a driver connection that was opened with a password."""

        def __init__(self, host, password):
            self.host, self._password = host, password

    def client_reduce(client):
        return FakeReconnector, ({"host": client.host, "port": 5432},)

    cerial.register(Client, client_reduce)
    holder = {"client": Client("db.internal", "correct horse battery")}
    data = cerial.serialize(holder)
    assert b"correct horse" not in data
    assert b"correct horse" not in cerial.to_json(holder).encode()
    back = cerial.deserialize(data)
    assert isinstance(back["client"], FakeReconnector) and "Reconnector" in repr(back["client"])
    live = reconnect_all(back, **{"tests.FakeDriver": {"client": "correct horse battery"}})
    assert live["client"] == ("live", "db.internal", "client", "correct horse battery")


def test_placeholder_explains_missing_live_api():
    with pytest.raises(AttributeError, match="reconnect_all"):
        fake().cursor()


# -- sockets ----------------------------------------------------------------------------


def test_tcp_socket_reconnects_to_its_peer_in_fresh_interpreter():
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(TIMEOUT)
        client = socket.create_connection(server.getsockname(), timeout=TIMEOUT)
        accepted, _ = server.accept()
        with client, accepted:
            holder = {"conn": client, "again": client, "label": "tcp"}

            def child(data):
                obj = cerial.deserialize(data)
                placeholder = obj["conn"]
                was = (type(placeholder).__name__, placeholder.metadata["peer"][1])
                reconnect_all(obj)
                with obj["conn"] as sock:
                    sock.sendall(b"hello from the child")
                    return was, obj["again"] is sock

            got = run_in_fresh_interpreter(child, cerial.serialize(holder))
            assert got == (("SocketReconnector", server.getsockname()[1]), True)
            second, _ = server.accept()
            with second:
                second.settimeout(TIMEOUT)
                received = b""
                while len(received) < 20:
                    chunk = second.recv(64)
                    if not chunk:
                        break
                    received += chunk
            assert received == b"hello from the child"


def test_listening_unbound_udp_and_closed_sockets():
    listener = socket.create_server(("127.0.0.1", 0))
    address = listener.getsockname()
    placeholder = roundtrip(listener)
    listener.close()
    assert placeholder.metadata["listening"] and "listening on 127.0.0.1" in repr(placeholder)
    with placeholder.reconnect() as again:
        again.settimeout(TIMEOUT)
        assert again.getsockname() == address
        with socket.create_connection(address, timeout=TIMEOUT):
            conn, _ = again.accept()
            conn.close()

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        udp_copy = roundtrip(udp)
        assert (
            udp_copy.metadata["local"] == udp.getsockname() and not udp_copy.metadata["listening"]
        )
    with socket.socket() as plain:
        plain.settimeout(3.5)
        with roundtrip(plain).reconnect() as fresh:
            assert fresh.gettimeout() == 3.5 and fresh.type == socket.SOCK_STREAM
    closed = socket.socket()
    closed.close()
    assert roundtrip(closed).reconnect().fileno() == -1


def test_refused_connection_is_a_reconnect_error():
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(TIMEOUT)
        client = socket.create_connection(server.getsockname(), timeout=TIMEOUT)
        placeholder = roundtrip({"link": client})["link"]
        port = server.getsockname()[1]
        client.close()
    with pytest.raises(ReconnectError, match=rf"'link'.*127\.0\.0\.1:{port}"):
        reconnect_all({"link": placeholder})


# -- sqlite -----------------------------------------------------------------------------


def test_sqlite_file_reconnects_in_fresh_interpreter(tmp_path):
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE items (name TEXT, qty INTEGER)")
    conn.executemany("INSERT INTO items VALUES (?, ?)", [("apple", 3), ("pear", 5)])
    conn.commit()
    conn.row_factory = sqlite3.Row

    class Store:
        def __init__(self, db):
            self.db = db
            self.name = "shop"

    def child(data):
        store = cerial.deserialize(data)
        before = (type(store.db).__name__, store.db.metadata["database"])
        reconnect_all(store, **{"sqlite3.Connection": {"*": None}})
        rows = [dict(row) for row in store.db.execute("SELECT * FROM items ORDER BY name")]
        store.db.execute("INSERT INTO items VALUES ('plum', 7)")
        store.db.commit()
        store.db.close()
        return before, rows

    try:
        before, rows = run_in_fresh_interpreter(child, cerial.serialize(Store(conn)))
        assert before == ("SqliteReconnector", str(path))
        assert rows == [{"name": "apple", "qty": 3}, {"name": "pear", "qty": 5}]
        assert conn.execute("SELECT qty FROM items WHERE name = 'plum'").fetchone()["qty"] == 7
    finally:
        conn.close()


def test_sqlite_attached_memory_and_closed(tmp_path):
    main, extra = tmp_path / "main.db", tmp_path / "extra.db"
    with sqlite3.connect(extra) as setup:
        setup.execute("CREATE TABLE notes (body TEXT)")
        setup.execute("INSERT INTO notes VALUES ('attached row')")
    setup.close()
    conn = sqlite3.connect(main, isolation_level=None)
    conn.execute("ATTACH DATABASE ? AS side", (str(extra),))
    placeholder = roundtrip(conn)
    conn.close()
    again = placeholder.reconnect()
    try:
        assert again.isolation_level is None
        assert again.execute("SELECT body FROM side.notes").fetchall() == [("attached row",)]
    finally:
        again.close()

    memory = sqlite3.connect(":memory:")
    memory.execute("CREATE TABLE lost (v)")
    placeholder = roundtrip({"cache": memory})["cache"]
    memory.close()
    assert "in-memory" in placeholder.note and placeholder.metadata["in_memory"]
    with pytest.warns(RuntimeWarning, match="contents did not travel"):
        fresh = reconnect_all({"cache": placeholder})["cache"]
    try:
        assert fresh.execute("SELECT name FROM sqlite_master").fetchall() == []
    finally:
        fresh.close()

    closed = roundtrip(memory).reconnect()
    with pytest.raises(sqlite3.ProgrammingError):
        closed.execute("SELECT 1")


def test_missing_sqlite_directory_is_a_reconnect_error(tmp_path):
    conn = sqlite3.connect(tmp_path / "gone.db")
    placeholder = roundtrip({"db": conn})["db"]
    conn.close()
    (tmp_path / "gone.db").unlink()
    tmp_path.rmdir()
    with pytest.raises(ReconnectError, match=r"sqlite3.Connection at attribute 'db' \(database"):
        reconnect_all({"db": placeholder})


# -- pipes ----------------------------------------------------------------------------


def test_pipe_ends_stay_placeholders_that_explain():
    left, right = multiprocessing.Pipe()
    with left, right:
        holder = roundtrip({"pipe": left, "db": fake()})
    reconnect_all(holder)
    assert isinstance(holder["pipe"], Reconnector) and holder["db"][0] == "live"
    with pytest.raises(ReconnectError, match="Pipe"):
        holder["pipe"].reconnect()
    with pytest.raises(AttributeError, match="placeholder"):
        holder["pipe"].send("x")
