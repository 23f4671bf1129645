"""Placeholders for resources that cannot travel, and bringing them back to life."""

from __future__ import annotations

from ._base import ReconnectError, Reconnector, reconnect_all

__all__ = ("ReconnectError", "Reconnector", "reconnect_all")
