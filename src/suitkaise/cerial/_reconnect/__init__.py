"""Placeholders for resources that cannot travel, and bringing them back to life.

``_base.py`` holds :class:`Reconnector` and :func:`reconnect_all`; each resource is one
small module beside it that registers a reducer turning the live resource into its
placeholder. Each is registered lazily (by type name), so that importing cerial does
not import every driver: the module loads the first time such an object is serialized.
"""

from __future__ import annotations

from .._registry import register_lazy
from ._base import ReconnectError, Reconnector, reconnect_all

__all__ = ("ReconnectError", "Reconnector", "reconnect_all")

_LAZY = {
    "multiprocessing.connection.Connection": "_pipe",
    "multiprocessing.connection.PipeConnection": "_pipe",
    "socket.socket": "_socket",
    "sqlite3.Connection": "_sqlite",
}
for _type_name, _module in _LAZY.items():
    register_lazy(_type_name, f"{__name__}.{_module}")
del _type_name, _module
