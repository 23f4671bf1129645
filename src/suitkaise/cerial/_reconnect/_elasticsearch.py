"""``elasticsearch.Elasticsearch`` clients (8.x and later): travel as nodes and options.

Password-map key: ``"elasticsearch.Elasticsearch"``. What the password is depends on
how the client authenticated, which is stored (never the secret itself):

- ``basic_auth=(user, password)``: the user is stored; the password is the user's.
- ``api_key=...``, or no authentication at all: the password is the API key (the
  encoded string, as ``api_key="..."`` takes it). No password, no authentication.
- ``bearer_auth=token``: the password is the token.

What travels: the node URLs (``scheme://host:port/prefix``), the client's
``request_timeout``, retry settings and extra headers, and the node options that differ
from their defaults (``verify_certs``, ``ca_certs``, ``client_cert``/``client_key``
paths, ``ssl_show_warn``, ``http_compress``, ``connections_per_node``, ...). What does
not: an ``ssl_context`` object, custom node or transport classes, sniffing callbacks.

``reconnect(password)`` builds the client without contacting the server (the client
connects on its first request, where a wrong key then shows up); it fails at once when
the stored authentication needs a password and none was given.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import elasticsearch
from elastic_transport import NodeConfig

from .._registry import register
from ._base import ReconnectError, Reconnector, without_secrets

__all__ = ("ElasticsearchReconnector",)

_PLAIN = (type(None), bool, int, float, str)
#: NodeConfig fields that ``Elasticsearch(...)`` takes under the same name.
_NODE_OPTIONS = (
    "connections_per_node",
    "http_compress",
    "verify_certs",
    "ca_certs",
    "client_cert",
    "client_key",
    "ssl_assert_hostname",
    "ssl_assert_fingerprint",
    "ssl_version",
    "ssl_show_warn",
)
#: Client attributes (``es._<name>``) that ``Elasticsearch(...)`` takes as ``<name>``.
_CLIENT_OPTIONS = ("request_timeout", "max_retries", "retry_on_timeout", "retry_on_status")
_DEFAULTS = {field.name: field.default for field in dataclasses.fields(NodeConfig)}
_SCHEMES = {"Basic": "basic", "ApiKey": "api_key", "Bearer": "bearer"}
_SECRET_NAMES = {"api_key": "API key", "bearer": "bearer token"}


class ElasticsearchReconnector(Reconnector):
    """Placeholder for an ``Elasticsearch`` client; ``reconnect()`` builds a new one.

    ``metadata`` holds ``nodes`` (URLs), ``auth`` (``"basic"``, ``"api_key"``,
    ``"bearer"`` or ``None``), ``user`` (basic auth only) and ``options`` (keywords for
    ``Elasticsearch(...)``).
    """

    type_key = "elasticsearch.Elasticsearch"

    def describe(self) -> str:
        where = ", ".join(self.metadata["nodes"]) or "no nodes"
        user = self.metadata["user"]
        return f"{where} as {user}" if user else where

    def _connect(self, password: str | None) -> Any:
        meta = self.metadata
        auth, user = meta["auth"], meta["user"]
        if password is None and auth is not None:
            needed = f"for user {user!r}" if user else f"(the {_SECRET_NAMES.get(auth, 'key')})"
            raise ReconnectError(
                self._failure_message(
                    f"no password given {needed}: put it in the password map under "
                    f"{self.type_key!r}"
                )
            )
        credentials: dict[str, Any] = {}
        if user is not None:
            credentials["basic_auth"] = (user, password)
        elif auth == "bearer":
            credentials["bearer_auth"] = password
        elif password is not None:  # no user stored: the password is the API key
            credentials["api_key"] = password
        return elasticsearch.Elasticsearch(meta["nodes"], **credentials, **meta["options"])


def _auth(client: Any) -> tuple[str | None, str | None]:
    """``(kind, user)`` from the client's Authorization header; the secret is dropped."""
    header = client._headers.get("authorization")
    if not header:
        return None, None
    scheme, _, value = str(header).partition(" ")
    kind = _SCHEMES.get(scheme, "api_key")
    if kind != "basic":
        return kind, None
    try:
        user = base64.b64decode(value).decode("utf-8").partition(":")[0]
    except ValueError:
        return kind, None
    return kind, user


@register(elasticsearch.Elasticsearch, subclasses=True)
def _elasticsearch_reduce(client: Any) -> tuple[Any, ...]:
    configs = [node.config for node in client.transport.node_pool.all()]
    nodes = [f"{c.scheme}://{c.host}:{c.port}{c.path_prefix}" for c in configs]
    options: dict[str, Any] = {}
    if configs:
        for name in _NODE_OPTIONS:
            value = getattr(configs[0], name)
            if value != _DEFAULTS[name] and isinstance(value, _PLAIN):
                options[name] = value
    for name in _CLIENT_OPTIONS:
        value = getattr(client, f"_{name}", None)
        if isinstance(value, (tuple, list)) and all(isinstance(v, int) for v in value):
            options[name] = tuple(value)
        elif isinstance(value, _PLAIN) and value is not None:
            options[name] = value
    headers = without_secrets({k: str(v) for k, v in client._headers.items()})
    if headers:
        options["headers"] = headers
    kind, user = _auth(client)
    note = None
    if configs and configs[0].ssl_context is not None:
        note = "its ssl_context did not travel (pass ca_certs / verify_certs instead)"
    metadata = {"nodes": nodes, "auth": kind, "user": user, "options": options}
    return ElasticsearchReconnector, (metadata,), {"note": note}
