"""``influxdb_client.InfluxDBClient`` (InfluxDB v2): travels as its URL, org and options.

Password-map key: ``"influxdb_client.InfluxDBClient"`` (the full
``"influxdb_client.client.influxdb_client.InfluxDBClient"`` is accepted too). The
password is the API token; for a client that signed in with ``username``/``password``
instead, the username is stored and the password is that user's.

What travels: ``url``, ``org``, ``timeout``, ``default_tags``, ``enable_gzip``,
``verify_ssl``, the certificate paths (``ssl_ca_cert``, ``cert_file``,
``cert_key_file``; never ``cert_key_password``), ``connection_pool_maxsize``,
``auth_basic`` and ``proxy``. What does not: an ``ssl_context``, a ``retries`` policy
object, profilers, and open write APIs (make them again from the new client).

``reconnect(password)`` builds the client without contacting the server (the client
connects on its first request); it fails at once when a username was stored and no
password was given.
"""

from __future__ import annotations

from typing import Any

import influxdb_client

from .._registry import register
from ._base import ReconnectError, Reconnector, without_secrets

__all__ = ("InfluxDBReconnector",)

_PLAIN = (type(None), bool, int, float, str)
#: ``client.conf`` attributes that ``InfluxDBClient(...)`` takes under the same name.
_CONF_OPTIONS = (
    "verify_ssl",
    "ssl_ca_cert",
    "cert_file",
    "cert_key_file",
    "connection_pool_maxsize",
    "auth_basic",
    "proxy",
    "timeout",
    "enable_gzip",
)


class InfluxDBReconnector(Reconnector):
    """Placeholder for an ``InfluxDBClient``; ``reconnect()`` builds a new one.

    ``metadata`` holds ``url``, ``org``, ``username`` (``None`` for token auth) and
    ``options`` (keywords for ``InfluxDBClient(...)``).
    """

    type_key = "influxdb_client.InfluxDBClient"
    type_aliases = ("influxdb_client.client.influxdb_client.InfluxDBClient",)

    def describe(self) -> str:
        meta = self.metadata
        where = f"{meta['url']} org {meta['org']!r}"
        return f"{where} as {meta['username']}" if meta["username"] else where

    def _connect(self, password: str | None) -> Any:
        meta = self.metadata
        credentials: dict[str, Any] = {"token": password}
        if meta["username"] is not None:
            if password is None:
                raise ReconnectError(
                    self._failure_message(
                        f"no password given for user {meta['username']!r}: put it in the "
                        f"password map under {self.type_key!r}"
                    )
                )
            credentials = {"username": meta["username"], "password": password}
        return influxdb_client.InfluxDBClient(
            url=meta["url"], org=meta["org"], **credentials, **meta["options"]
        )


@register(influxdb_client.InfluxDBClient, subclasses=True)
def _influxdb_reduce(client: Any) -> tuple[Any, ...]:
    conf = client.conf
    options: dict[str, Any] = {}
    for name in _CONF_OPTIONS:
        value = getattr(conf, name, None)
        if isinstance(value, _PLAIN) and value is not None:
            options[name] = value
    if client.default_tags:
        options["default_tags"] = dict(client.default_tags)
    note = None
    if getattr(conf, "ssl_context", None) is not None:
        note = "its ssl_context did not travel (pass ssl_ca_cert / verify_ssl instead)"
    metadata = {
        "url": client.url,
        "org": client.org,
        "username": conf.username,
        "options": without_secrets(options),
    }
    return InfluxDBReconnector, (metadata,), {"note": note}
