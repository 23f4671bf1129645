"""redis.Redis clients against a real Redis with ``requirepass``, over TCP and a unix socket."""

from __future__ import annotations

import pytest
import redis
from _support import run_in_fresh_interpreter
from reconnect_support import REDIS_PASSWORD

from suitkaise import cerial
from suitkaise.cerial import ReconnectError, reconnect_all


class CountingRedis(redis.Redis):  # keeps redis.Redis.__init__: comes back as itself
    def bump(self):
        return self.incr("bumps")


class WrappedRedis(redis.Redis):  # its own __init__: comes back as a plain redis.Redis
    def __init__(self, servers):
        super().__init__(**servers.redis(), password=REDIS_PASSWORD)


def roundtrip(obj):
    return cerial.deserialize(cerial.serialize(obj))


@pytest.mark.parametrize("unix_socket", [False, True], ids=["tcp", "unix"])
def test_reconnects_in_a_fresh_interpreter(servers, closing, unix_socket):
    client = redis.Redis(
        **servers.redis(unix_socket=unix_socket), db=3, password=REDIS_PASSWORD,
        decode_responses=True, client_name="suitkaise-test",
    )
    closing.append(client)
    client.set("greeting", f"hello over {'unix' if unix_socket else 'tcp'}")
    data = cerial.serialize({"cache": client})
    assert REDIS_PASSWORD.encode() not in data

    def child(data, password):
        obj = cerial.deserialize(data)
        described = obj["cache"].describe()
        reconnect_all(obj, **{"redis.Redis": {"*": password}})
        cache = obj["cache"]
        found = (described, cache.get("greeting"), cache.client_getname())
        cache.close()
        return found

    described, greeting, name = run_in_fresh_interpreter(child, data, REDIS_PASSWORD)
    where = (f"unix socket {servers.redis_socket}" if unix_socket
             else f"127.0.0.1:{servers.redis_port}")
    assert described == f"{where} db 3"
    assert greeting == f"hello over {'unix' if unix_socket else 'tcp'}"  # db 3, decoded
    assert name == "suitkaise-test"


@pytest.mark.parametrize("password", ["not-the-password-5d1e", None], ids=["wrong", "none"])
def test_bad_password_fails_in_reconnect_all_naming_everything(servers, closing, password):
    client = redis.Redis(**servers.redis(), password=REDIS_PASSWORD)
    closing.append(client)
    passwords = {} if password is None else {"redis.Redis": {"*": password}}
    with pytest.raises(ReconnectError) as info:
        reconnect_all(roundtrip({"cache": client}), **passwords)
    message = str(info.value)
    for part in ("'cache'", "redis.Redis", f"127.0.0.1:{servers.redis_port} db 0"):
        assert part in message, (part, message)
    assert "AuthenticationError" in message or "Authentication required" in message, message
    assert REDIS_PASSWORD not in message and (password is None or password not in message)


def test_password_map_takes_the_defining_module_too_and_attribute_entries(servers, closing):
    client = redis.Redis(**servers.redis(unix_socket=True), password=REDIS_PASSWORD)
    closing.append(client)
    obj = roundtrip({"cache": client, "sessions": client, "other": [client]})
    reconnect_all(obj, **{"redis.client.Redis": {"*": "wrong", "cache": REDIS_PASSWORD}})
    closing.append(obj["cache"])
    assert obj["cache"] is obj["sessions"] is obj["other"][0]  # one placeholder, one client
    assert obj["cache"].ping() is True


def test_no_secret_is_serialized_even_tls_ones():
    client = redis.Redis(
        host="cache.internal", port=6380, username="worker", password="redis-pass-4b1c",
        ssl=True, ssl_password="tls-key-pass-88aa", ssl_certfile="/etc/certs/client.pem",
    )  # (never connects: redis-py connects on the first command)
    data = cerial.serialize(client)
    text = cerial.to_json(client)
    for secret in ("redis-pass-4b1c", "tls-key-pass-88aa"):
        assert secret.encode() not in data and secret not in text
    placeholder = cerial.deserialize(data)
    options = placeholder.metadata["options"]
    assert options["ssl"] is True and options["ssl_certfile"] == "/etc/certs/client.pem"
    assert (options["host"], options["port"]) == ("cache.internal", 6380)
    assert options["username"] == "worker"
    assert not any("password" in key for key in options)


def test_subclasses(servers, closing):
    counting = CountingRedis(**servers.redis(), password=REDIS_PASSWORD)
    wrapped = WrappedRedis(servers)
    closing.extend([counting, wrapped])
    obj = roundtrip({"counting": counting, "wrapped": wrapped})
    assert obj["counting"].note is None
    assert "comes back as redis.Redis" in obj["wrapped"].note
    reconnect_all(obj, **{"redis.Redis": {"*": REDIS_PASSWORD}})
    closing.extend(obj.values())
    assert type(obj["counting"]) is CountingRedis and obj["counting"].bump() >= 1
    assert type(obj["wrapped"]) is redis.Redis and obj["wrapped"].ping() is True
