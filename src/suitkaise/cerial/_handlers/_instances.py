"""Instances of a (maybe user-defined) subclass, made without the subclass's ``__init__``.

A handler for a stdlib type rebuilds a subclass's instance the way the stdlib type sets
itself up, since the subclass's ``__init__`` may take other arguments; the subclass's
own attributes are restored afterwards as state.
"""

from __future__ import annotations

from typing import Any

__all__ = ("fresh",)


def fresh(cls: type[Any], base: type[Any], *args: Any, **kwargs: Any) -> Any:
    """An instance of ``cls`` set up by ``base.__init__(*args, **kwargs)``."""
    obj = cls.__new__(cls)  # type: ignore[call-overload]  # mypy reads it as type.__new__
    base.__init__(obj, *args, **kwargs)
    return obj
