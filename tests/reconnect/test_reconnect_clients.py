"""Elasticsearch and InfluxDB v2 clients: no server runs here, so these check that the
rebuilt client carries the right endpoint and credentials (neither constructor connects).
"""

from __future__ import annotations

import base64

import elasticsearch
import influxdb_client
import pytest

from suitkaise import cerial
from suitkaise.cerial import ReconnectError, reconnect_all

ES_PASSWORD = "es-pass-19fe"
API_KEY = "ZXMtaWQ6ZXMta2V5LTc3"
INFLUX_TOKEN = "influx-token-c0ffee"


def roundtrip(obj):
    return cerial.deserialize(cerial.serialize(obj))


def nodes(client):
    return sorted(str(node.config.scheme) + "://" + node.config.host + ":" + str(node.config.port)
                  + node.config.path_prefix for node in client.transport.node_pool.all())


def authorization(client):
    return client._headers.get("authorization")


@pytest.fixture
def clients():
    """Clients made by a test, closed at its end."""
    made = []
    yield made
    for client in made:
        client.close()


def test_elasticsearch_basic_auth_keeps_the_user_and_takes_the_password(clients):
    es = elasticsearch.Elasticsearch(
        ["https://es1.example:9200", "http://es2.example:9201/search"],
        basic_auth=("elastic", ES_PASSWORD), request_timeout=7, max_retries=2,
        verify_certs=False, ssl_show_warn=False, headers={"x-team": "data", "X-Api-Key": API_KEY},
    )
    clients.append(es)
    data = cerial.serialize({"search": es})
    basic = base64.b64encode(f"elastic:{ES_PASSWORD}".encode())
    for secret in (ES_PASSWORD.encode(), basic, API_KEY.encode()):
        assert secret not in data
    placeholder = cerial.deserialize(data)["search"]
    assert (placeholder.metadata["auth"], placeholder.metadata["user"]) == ("basic", "elastic")
    passwords = {"elasticsearch.Elasticsearch": {"*": ES_PASSWORD}}
    obj = reconnect_all({"search": placeholder}, **passwords)
    live = obj["search"]
    clients.append(live)
    assert type(live) is elasticsearch.Elasticsearch
    assert nodes(live) == nodes(es) == [
        "http://es2.example:9201/search", "https://es1.example:9200"
    ]
    assert authorization(live) == "Basic " + basic.decode()
    assert (live._request_timeout, live._max_retries) == (7, 2)
    assert live._headers.get("x-team") == "data" and "x-api-key" not in live._headers
    assert {n.config.verify_certs for n in live.transport.node_pool.all()} == {False}


def test_elasticsearch_password_is_the_api_key_when_no_user_was_stored(clients):
    with_key = elasticsearch.Elasticsearch("http://es.example:9200", api_key="old-key")
    no_auth = elasticsearch.Elasticsearch("http://es.example:9200")
    bearer = elasticsearch.Elasticsearch("http://es.example:9200", bearer_auth="old-token")
    clients.extend([with_key, no_auth, bearer])
    obj = roundtrip({"with_key": with_key, "no_auth": no_auth, "bearer": bearer, "anon": no_auth})
    assert obj["with_key"].metadata["auth"] == "api_key"
    assert obj["with_key"].metadata["user"] is None
    reconnect_all(obj, **{"elasticsearch.Elasticsearch": {
        "*": API_KEY, "bearer": "new-token", "anon": None,
    }})
    clients.extend(obj.values())
    assert authorization(obj["with_key"]) == f"ApiKey {API_KEY}"
    assert authorization(obj["no_auth"]) == f"ApiKey {API_KEY}"  # no user stored: api_key
    assert authorization(obj["bearer"]) == "Bearer new-token"
    assert obj["anon"] is obj["no_auth"]  # (the same client object, one placeholder)


def test_elasticsearch_missing_password_is_a_clear_error(clients):
    es = elasticsearch.Elasticsearch("http://es.example:9200", basic_auth=("elastic", ES_PASSWORD))
    keyed = elasticsearch.Elasticsearch("http://es.example:9200", api_key=API_KEY)
    clients.extend([es, keyed])
    with pytest.raises(ReconnectError) as info:
        reconnect_all(roundtrip({"search": es}))
    message = str(info.value)
    for part in ("'search'", "elasticsearch.Elasticsearch", "http://es.example:9200 as elastic",
                 "no password given for user 'elastic'"):
        assert part in message, (part, message)
    assert ES_PASSWORD not in message
    with pytest.raises(ReconnectError, match=r"no password given \(the API key\)"):
        reconnect_all(roundtrip({"search": keyed}))


def test_influxdb_password_is_the_token(clients):
    client = influxdb_client.InfluxDBClient(
        url="http://influx.example:8086", token=INFLUX_TOKEN, org="my-org", timeout=5_000,
        default_tags={"host": "worker-1"}, verify_ssl=False, enable_gzip=True,
    )
    clients.append(client)
    data = cerial.serialize({"metrics": client})
    assert INFLUX_TOKEN.encode() not in data and INFLUX_TOKEN not in cerial.to_json(client)
    obj = reconnect_all(cerial.deserialize(data), **{
        "influxdb_client.InfluxDBClient": {"*": "wrong", "metrics": INFLUX_TOKEN},
    })
    live = obj["metrics"]
    clients.append(live)
    assert type(live) is influxdb_client.InfluxDBClient
    assert (live.url, live.org) == ("http://influx.example:8086", "my-org")
    assert live.token == INFLUX_TOKEN
    assert live.api_client.default_headers["Authorization"] == f"Token {INFLUX_TOKEN}"
    assert (live.conf.timeout, live.conf.verify_ssl, live.conf.enable_gzip) == (5_000, False, True)
    assert live.default_tags == {"host": "worker-1"}


def test_influxdb_username_client_and_the_long_key(clients):
    client = influxdb_client.InfluxDBClient(
        url="http://influx.example:8086", username="ops", password="ops-pass-42aa", org="o"
    )
    clients.append(client)
    data = cerial.serialize(client)
    assert b"ops-pass-42aa" not in data
    key = "influxdb_client.client.influxdb_client.InfluxDBClient"
    live = reconnect_all(cerial.deserialize(data), **{key: {"*": "ops-pass-42aa"}})
    clients.append(live)
    assert (live.conf.username, live.conf.password, live.token) == ("ops", "ops-pass-42aa", None)
    with pytest.raises(ReconnectError, match=r"influxdb_client.InfluxDBClient at attribute "
                       r"'metrics' \(http://influx.example:8086 org 'o' as ops\): no password"):
        reconnect_all({"metrics": cerial.deserialize(data)})
