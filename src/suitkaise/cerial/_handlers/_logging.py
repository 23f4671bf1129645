"""Loggers travel by name, with their level.

The copy is ``logging.getLogger(name)`` in the receiving process (the root logger for
the root logger), and its level is set to the sender's. Only the level travels:
handlers, filters and ``propagate`` are the receiving process's own configuration and
are left alone. A logger of a custom class that the receiver has not created yet is
created with that class. (``Logger.__reduce__`` already sends the name, but not the
level.)
"""

from __future__ import annotations

import logging
from typing import Any

from .._registry import register

__all__ = ()


def _get_logger(name: str, cls: type) -> logging.Logger:
    manager = logging.Logger.manager
    if cls is logging.Logger or isinstance(manager.loggerDict.get(name), logging.Logger):
        return logging.getLogger(name)
    # Not there yet: create it with the sender's class. logging's module lock is the one
    # getLogger() itself takes (reentrant), so no other thread sees the swapped class.
    with logging._lock:  # type: ignore[attr-defined]
        previous = manager.loggerClass
        manager.loggerClass = cls
        try:
            return logging.getLogger(name)
        finally:
            manager.loggerClass = previous


def _rebuild_logger(name: str | None, level: int, cls: type) -> logging.Logger:
    logger = logging.getLogger() if name is None else _get_logger(name, cls)
    logger.setLevel(level)
    return logger


@register(logging.Logger, subclasses=True)
def _logger_reduce(logger: logging.Logger) -> tuple[Any, ...]:
    name = None if isinstance(logger, logging.RootLogger) else logger.name
    return _rebuild_logger, (name, logger.level, type(logger))
