"""psycopg2 and psycopg (3) connections against a real, password-protected PostgreSQL."""

from __future__ import annotations

import psycopg
import psycopg.rows
import psycopg2
import psycopg2.extensions
import psycopg2.extras
import pytest
from _support import run_in_fresh_interpreter
from reconnect_support import ANALYTICS_PASSWORD, APP_PASSWORD

from suitkaise import cerial
from suitkaise.cerial import ReconnectError, Reconnector, reconnect_all

SSL_KEY_PASSPHRASE = "ssl-key-passphrase-7f3a"  # (libpq's sslpassword: a secret too)


class AuditConnection(psycopg.Connection):  # (importable: travels by reference)
    """A psycopg connection subclass: it must come back as itself."""


def connect(driver, servers, role="app", password=APP_PASSWORD, *, unix_socket=False, **extra):
    params = servers.postgres(role, unix_socket=unix_socket)
    if driver == "psycopg2":
        return psycopg2.connect(**params, password=password, **extra)
    return psycopg.connect(**params, password=password, **extra)


KEYS = {"psycopg2": "psycopg2.Connection", "psycopg": "psycopg.Connection"}
DRIVERS = pytest.mark.parametrize("driver", sorted(KEYS))


def roundtrip(obj):
    return cerial.deserialize(cerial.serialize(obj))


def who(conn):
    cur = conn.cursor()
    cur.execute("SELECT current_user, current_database()")
    return tuple(cur.fetchone())


@DRIVERS
@pytest.mark.parametrize("unix_socket", [False, True], ids=["tcp", "unix"])
def test_reconnects_in_a_fresh_interpreter(servers, closing, driver, unix_socket):
    conn = connect(driver, servers, unix_socket=unix_socket)
    closing.append(conn)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS notes (driver text)")
        cur.execute("INSERT INTO notes VALUES (%s)", (driver,))
    conn.commit()
    data = cerial.serialize({"db": conn})
    assert APP_PASSWORD.encode() not in data

    def child(data, type_key, password, driver):
        obj = cerial.deserialize(data)
        placeholder = obj["db"]
        seen = (placeholder.type_key, placeholder.describe())
        reconnect_all(obj, **{type_key: {"*": password}})
        cur = obj["db"].cursor()
        cur.execute("SELECT current_user, count(*) > 0 FROM notes WHERE driver = %s", (driver,))
        found = tuple(cur.fetchone())
        obj["db"].close()
        return seen, found

    seen, found = run_in_fresh_interpreter(child, data, KEYS[driver], APP_PASSWORD, driver)
    where = (f"socket {servers.pg_socket_dir}/.s.PGSQL.{servers.pg_port} db app" if unix_socket
             else f"127.0.0.1:{servers.pg_port}/app")
    assert seen == (KEYS[driver], f"{where} as app")
    assert found == ("app", True)


def test_psycopg2_session_settings_and_classes_travel(servers, closing):
    conn = connect(
        "psycopg2", servers, connection_factory=psycopg2.extras.RealDictConnection
    )
    closing.append(conn)
    conn.autocommit = True
    conn.isolation_level = psycopg2.extensions.ISOLATION_LEVEL_SERIALIZABLE
    conn.readonly = True
    conn.cursor_factory = psycopg2.extras.RealDictCursor
    placeholder = roundtrip(conn)
    assert placeholder.metadata["session"]["autocommit"] is True
    live = placeholder.reconnect(APP_PASSWORD)
    closing.append(live)
    assert type(live) is psycopg2.extras.RealDictConnection
    assert (live.autocommit, live.readonly) == (True, True)
    assert live.isolation_level == psycopg2.extensions.ISOLATION_LEVEL_SERIALIZABLE
    cur = live.cursor()
    cur.execute("SHOW transaction_read_only")
    assert cur.fetchone() == {"transaction_read_only": "on"}


def test_psycopg_session_settings_and_classes_travel(servers, closing):
    conn = AuditConnection.connect(
        **servers.postgres("app"), password=APP_PASSWORD, autocommit=True,
        row_factory=psycopg.rows.dict_row, prepare_threshold=None,
    )
    closing.append(conn)
    conn.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
    conn.read_only = True
    live = roundtrip(conn).reconnect(APP_PASSWORD)
    closing.append(live)
    assert type(live) is AuditConnection
    assert (live.autocommit, live.read_only, live.prepare_threshold) == (True, True, None)
    assert live.isolation_level == psycopg.IsolationLevel.SERIALIZABLE
    assert live.execute("SELECT current_user AS who").fetchone() == {"who": "app"}


def test_the_spec_map_with_two_connections_on_one_object(servers, closing):
    class Service:
        def __init__(self):
            self.db = connect("psycopg2", servers, "app", "secret")
            self.analytics_db = connect("psycopg2", servers, "analytics", "other_pass")

    service = Service()
    closing.extend([service.db, service.analytics_db])
    back = roundtrip(service)
    assert isinstance(back.db, Reconnector) and isinstance(back.analytics_db, Reconnector)
    out = reconnect_all(back, **{
        "psycopg2.Connection": {"*": "secret", "analytics_db": "other_pass"},
    })
    assert out is back
    closing.extend([back.db, back.analytics_db])
    assert who(back.db) == ("app", "app")
    assert who(back.analytics_db) == ("analytics", "analytics")


def test_password_map_takes_psycopg2s_class_name_too(servers, closing):
    conn = connect("psycopg2", servers, "analytics", ANALYTICS_PASSWORD)
    closing.append(conn)
    obj = roundtrip({"analytics_db": conn, "other": conn})
    reconnect_all(obj, **{"psycopg2.extensions.connection": {"*": ANALYTICS_PASSWORD}})
    closing.append(obj["analytics_db"])
    assert obj["analytics_db"] is obj["other"]  # one placeholder, one connection
    assert who(obj["analytics_db"]) == ("analytics", "analytics")
    # Both spellings at once: an attribute's own entry beats "*" whatever its spelling,
    # and on an exact clash the spec's spelling wins.
    obj = roundtrip({"analytics_db": conn, "db": conn})
    reconnect_all(obj, **{
        "psycopg2.Connection": {"*": "wrong-star", "db": ANALYTICS_PASSWORD},
        "psycopg2.extensions.connection": {"analytics_db": ANALYTICS_PASSWORD, "db": "wrong"},
    })
    closing.append(obj["db"])
    assert who(obj["db"]) == who(obj["analytics_db"]) == ("analytics", "analytics")


@DRIVERS
def test_no_password_or_secret_parameter_is_ever_serialized(servers, closing, driver):
    conn = connect(driver, servers, sslpassword=SSL_KEY_PASSPHRASE)
    closing.append(conn)
    data = cerial.serialize({"db": conn})
    text = cerial.to_json({"db": conn})
    for secret in (APP_PASSWORD, SSL_KEY_PASSPHRASE):
        assert secret.encode() not in data and secret not in text
    placeholder = cerial.deserialize(data)["db"]
    assert "sslpassword" not in placeholder.metadata["params"]
    assert APP_PASSWORD not in repr(placeholder)
    live = placeholder.reconnect(APP_PASSWORD)  # works without the secret parameter
    closing.append(live)
    assert who(live) == ("app", "app")


@DRIVERS
def test_wrong_password_is_a_clear_error_without_the_password(servers, closing, driver):
    conn = connect(driver, servers, "analytics", ANALYTICS_PASSWORD)
    closing.append(conn)
    wrong = "not-the-password-91c2"
    with pytest.raises(ReconnectError) as info:
        reconnect_all(roundtrip({"analytics_db": conn}), **{KEYS[driver]: {"*": wrong}})
    message = str(info.value)
    for part in ("'analytics_db'", KEYS[driver], f"127.0.0.1:{servers.pg_port}/analytics",
                 "password authentication failed"):
        assert part in message, (part, message)
    assert wrong not in message and ANALYTICS_PASSWORD not in message
    assert isinstance(info.value, ConnectionError)


@DRIVERS
def test_unreachable_server_names_the_address(servers, closing, driver):
    conn = connect(driver, servers)
    closing.append(conn)
    placeholder = roundtrip(conn)
    placeholder.metadata["params"]["port"] = "1"  # (nothing listens on port 1)
    with pytest.raises(ReconnectError, match=r"at the top level \(127\.0\.0\.1:1/app as app\)"):
        reconnect_all(placeholder, **{KEYS[driver]: {"*": APP_PASSWORD}})


@DRIVERS
def test_closed_connection_stays_a_placeholder(servers, closing, driver):
    conn = connect(driver, servers)
    conn.close()
    obj = reconnect_all(roundtrip({"db": conn}), **{KEYS[driver]: {"*": APP_PASSWORD}})
    placeholder = obj["db"]
    assert isinstance(placeholder, Reconnector) and "closed" in placeholder.note
    if driver == "psycopg2":  # psycopg2 still knows where a closed connection pointed
        live = placeholder.reconnect(APP_PASSWORD)
        closing.append(live)
        assert who(live) == ("app", "app")


@DRIVERS
def test_an_open_transaction_is_noted(servers, closing, driver):
    conn = connect(driver, servers)
    closing.append(conn)
    conn.cursor().execute("SELECT 1")  # opens a transaction (autocommit is off)
    assert "uncommitted" in roundtrip(conn).note
    conn.rollback()
    assert roundtrip(conn).note is None
