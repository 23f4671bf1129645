"""Placeholders for resources that cannot travel, and bringing them back to life.

``_base.py`` holds :class:`Reconnector` and :func:`reconnect_all`; each resource is one
small module beside it that registers a reducer turning the live resource into its
placeholder. Importing this package registers them all.
"""

from __future__ import annotations

from . import _socket, _sqlite
from ._base import ReconnectError, Reconnector, reconnect_all

__all__ = ("ReconnectError", "Reconnector", "reconnect_all")

del _socket, _sqlite
