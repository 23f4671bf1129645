"""Placeholders for resources that cannot travel, and bringing them back to life.

``_base.py`` holds :class:`Reconnector` and :func:`reconnect_all`; each resource is one
small module beside it that registers a reducer turning the live resource into its
placeholder. Each is registered lazily (by type name), so that importing cerial does
not import every driver: the module loads the first time such an object is serialized.

Password-map keys (each Reconnector's ``type_key``; other accepted spellings after "or")::

    "socket.socket", "sqlite3.Connection", "threading.Thread"    no password
    "psycopg2.Connection"  or "psycopg2.extensions.connection"
    "psycopg.Connection"                                          psycopg 3
    "redis.Redis"          or "redis.client.Redis"
    "elasticsearch.Elasticsearch"         the user's password, else the API key
    "influxdb_client.InfluxDBClient"      the token (or the user's password)
        or "influxdb_client.client.influxdb_client.InfluxDBClient"
"""

from __future__ import annotations

from .._registry import register_lazy
from ._base import ReconnectError, Reconnector, reconnect_all

__all__ = ("ReconnectError", "Reconnector", "reconnect_all")

# Keys are where each class says it lives (``__module__.__qualname__``), which is not
# always the name users know: the password-map key of each is its Reconnector's type_key.
_LAZY = {
    "multiprocessing.connection.Connection": "_pipe",
    "multiprocessing.connection.PipeConnection": "_pipe",
    "socket.socket": "_socket",
    "sqlite3.Connection": "_sqlite",
    "psycopg2.extensions.connection": "_psycopg2",  # key "psycopg2.Connection"
    "psycopg.Connection": "_psycopg",
    "redis.client.Redis": "_redis",  # key "redis.Redis"
    "elasticsearch.Elasticsearch": "_elasticsearch",
    "elasticsearch._sync.client.Elasticsearch": "_elasticsearch",  # (before 9.x)
    "influxdb_client.client.influxdb_client.InfluxDBClient": "_influxdb",
}
for _type_name, _module in _LAZY.items():
    register_lazy(_type_name, f"{__name__}.{_module}")
del _type_name, _module
