"""@autoreconnect on Skprocess, and reconnect_all in __prerun__, against real servers.

The processes here are the processing guide's examples as written (the ``...`` of its
``connect(...)`` calls filled in with the test servers' addresses), run under every
start method. Their classes live at module level, so they travel by reference.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import traceback

import psycopg2
import pytest
import redis
from _support import TIMEOUT
from reconnect_support import ANALYTICS_PASSWORD, APP_PASSWORD, REDIS_PASSWORD

from suitkaise import cerial
from suitkaise.cerial import ReconnectError, Reconnector, reconnect_all
from suitkaise.processing import PreRunError, Skprocess, autoreconnect
from suitkaise.processing._autoreconnect import AUTORECONNECT


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
    def __init__(self, servers):
        self.db = psycopg2.connect(**servers.postgres("app"), password="secret")
        self.analytics_db = psycopg2.connect(**servers.postgres("analytics"), password="other_pass")
        self.cache = redis.Redis(**servers.redis(unix_socket=True), password="redis_pass")
        self.process_config.runs = 1

    def __run__(self):
        # db, analytics_db, cache are all live connections
        cursor = self.db.cursor()
        cursor.execute("SELECT current_user")
        self.users = [cursor.fetchone()[0]]
        cursor = self.analytics_db.cursor()
        cursor.execute("SELECT current_user")
        self.users.append(cursor.fetchone()[0])
        self.users.append(self.cache.ping())

    def __result__(self):
        return self.users


@autoreconnect()
class SocketProcess(Skprocess):
    def __init__(self, address, database):
        self.socket = socket.create_connection(address, timeout=TIMEOUT)  # a SocketReconnector
        self.db = sqlite3.connect(database)
        self.process_config.runs = 1

    def __run__(self):
        # self.socket is a live socket again
        self.socket.send(b"hello")
        with self.db:
            self.db.execute("INSERT INTO seen VALUES ('child')")
        self.socket.close()
        self.db.close()


class ManualProcess(Skprocess):
    def __init__(self, servers):
        self.db = psycopg2.connect(**servers.postgres("app"), password=os.environ["DB_PASSWORD"])
        self.process_config.runs = 2
        self.users = []

    def __prerun__(self):
        reconnect_all(self, **{
            "psycopg2.Connection": {
                "*": os.environ["DB_PASSWORD"],
            },
        })

    def __run__(self):
        cursor = self.db.cursor()
        cursor.execute("SELECT current_user")
        self.users.append(cursor.fetchone()[0])

    def __result__(self):
        return self.users


WRONG = "not-the-password-3e7b"


@autoreconnect(**{"psycopg2.Connection": {"*": "secret", "analytics_db": WRONG}})
class WrongPassword(Skprocess):
    def __init__(self, servers):
        self.db = psycopg2.connect(**servers.postgres("app"), password="secret")
        self.analytics_db = psycopg2.connect(**servers.postgres("analytics"), password="other_pass")
        self.process_config.runs = 1

    def __run__(self):
        raise AssertionError("__run__ must not run: reconnecting failed before __prerun__")


@autoreconnect(**{"redis.Redis": {"*": "redis_pass"}})
class FailsOnce(Skprocess):
    """lives = 2: run 1 fails once; the retry starts from the restored snapshot, whose
    client is a placeholder again, and must find it live."""

    def __init__(self, servers, key):
        self.cache = redis.Redis(**servers.redis(), password="redis_pass")
        self.key = key
        self.process_config.runs = 2
        self.process_config.lives = 2

    def __run__(self):
        if self.cache.incr(self.key) == 2:  # the second attempt of all: fail it
            raise ConnectionError("a transient failure")

    def __result__(self):
        return int(self.cache.get(self.key)), type(self.cache).__name__


def run(process):
    process.start()
    return process.result.timeout(TIMEOUT)()


def parents_own(process, *names):
    """The parent's live connections (the final state from the child replaces them)."""
    return [getattr(process, name) for name in names]


# -------------------------------------------------------------------------- the guide


def test_with_credentials_example_under_every_start_method(servers, closing, start_method):
    process = MyProcess(servers)
    closing.extend(parents_own(process, "db", "analytics_db", "cache"))
    assert run(process) == ["app", "analytics", True]
    assert isinstance(process.db, Reconnector)  # the child's final state, back in the parent


def test_basic_usage_example_socket_and_sqlite(tmp_path, closing, start_method):
    database = str(tmp_path / "seen.db")
    setup = sqlite3.connect(database)
    setup.execute("CREATE TABLE seen (who TEXT)")
    setup.commit()
    closing.append(setup)
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(TIMEOUT)
        process = SocketProcess(server.getsockname(), database)
        closing.extend(parents_own(process, "socket", "db"))
        first, _ = server.accept()
        run(process)
        second, _ = server.accept()  # the child's own connection
        with first, second:
            second.settimeout(TIMEOUT)
            assert second.recv(100) == b"hello"
    assert setup.execute("SELECT who FROM seen").fetchall() == [("child",)]


# (Not forkserver: its children inherit the environment of the server process, which
# may have started before this test set DB_PASSWORD.)
@pytest.mark.parametrize("start_method", ["fork", "spawn"], indirect=True)
def test_manual_reconnect_all_in_prerun(servers, closing, monkeypatch, start_method):
    monkeypatch.setenv("DB_PASSWORD", APP_PASSWORD)
    process = ManualProcess(servers)
    closing.append(process.db)
    assert run(process) == ["app", "app"]


# -------------------------------------------------------------------------- failures


def test_failed_reconnect_is_a_prerun_error_naming_everything_but_the_password(
    servers, closing, start_method
):
    process = WrongPassword(servers)
    closing.extend(parents_own(process, "db", "analytics_db"))
    with pytest.raises(PreRunError) as info:
        run(process)
    error = info.value
    assert isinstance(error.original_error, ReconnectError)
    assert error.current_run == 1
    message = str(error)
    for part in ("@autoreconnect", "'analytics_db'", "psycopg2.Connection",
                 f"127.0.0.1:{servers.pg_port}/analytics as analytics",
                 "password authentication failed"):
        assert part in message, (part, message)
    everything = "".join(traceback.format_exception(error)) + repr(error.original_error)
    for secret in (WRONG, APP_PASSWORD, ANALYTICS_PASSWORD):
        assert secret not in everything


def test_lives_retry_reconnects_the_restored_state(servers, closing, start_method):
    key = f"fails-once-{start_method}"
    process = FailsOnce(servers, key)
    closing.append(process.cache)
    process.cache.delete(key)
    assert run(process) == (3, "Redis")  # attempts: run 1, 2 (failed), 2


# -------------------------------------------------------------- what travels where


def test_passwords_are_not_in_what_an_importable_class_sends(servers, closing):
    process = MyProcess(servers)
    closing.extend(parents_own(process, "db", "analytics_db", "cache"))
    data = cerial.serialize(process)  # what spawn/forkserver send to the child
    for secret in (APP_PASSWORD, ANALYTICS_PASSWORD, REDIS_PASSWORD):
        assert secret.encode() not in data
        assert secret not in repr(getattr(MyProcess, AUTORECONNECT))
    assert AUTORECONNECT not in vars(process)  # on the class, never on the instance


def test_a_class_sent_by_value_carries_its_map(servers, closing):
    # Documented: a class that cannot be imported travels by value, its attributes and
    # code with it, so its password map is in the bytes (sent over the parent's pipe to
    # its own child) -- but never in the placeholders' metadata.
    @autoreconnect(**{"redis.Redis": {"*": "by-value-pass-61d0"}})
    class Local(Skprocess):
        def __init__(self, cache):
            self.cache = cache

        def __run__(self):
            pass

    process = Local(redis.Redis(**servers.redis(), password=REDIS_PASSWORD))
    closing.append(process.cache)
    data = cerial.serialize(process)
    assert b"by-value-pass-61d0" in data
    assert REDIS_PASSWORD.encode() not in data


# ------------------------------------------------------------------------ the decorator


def test_decorator_checks_its_arguments_and_target():
    with pytest.raises(TypeError, match="Skprocess subclasses"):
        autoreconnect()(object)
    with pytest.raises(TypeError, match="must be a dict"):
        autoreconnect(**{"redis.Redis": "pw"})
    with pytest.raises(TypeError, match="must be a str or None"):
        autoreconnect(**{"redis.Redis": {"*": 5}})

    @autoreconnect  # without parentheses: no passwords
    class Bare(Skprocess):
        def __run__(self):
            pass

    class Child(MyProcess):  # inherits the map
        pass

    assert repr(getattr(Bare, AUTORECONNECT)) == "<autoreconnect passwords for {}>"
    assert getattr(Child, AUTORECONNECT) is getattr(MyProcess, AUTORECONNECT)
    assert "'psycopg2.Connection': ['*', 'analytics_db']" in repr(getattr(Child, AUTORECONNECT))
