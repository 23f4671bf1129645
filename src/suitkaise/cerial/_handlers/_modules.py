"""Modules travel by name and are imported again where they land.

Sentinels of the standard library that code compares by identity (``dataclasses.MISSING``
and the dataclass field markers) travel by name too, so a dataclass sent by value still
recognises its own fields.
"""

from __future__ import annotations

import dataclasses
import importlib
import types
from typing import Any

from .._registry import register

__all__ = ()


@register(types.ModuleType, subclasses=True)
def _module_reduce(module: types.ModuleType) -> tuple[Any, ...]:
    return importlib.import_module, (module.__name__,)


def _sentinel_reduce(obj: Any) -> Any:
    for name, value in vars(dataclasses).items():
        if value is obj:
            return getattr, (dataclasses, name)
    return obj.__reduce_ex__(5)


for _sentinel in (dataclasses.MISSING, dataclasses._FIELD, dataclasses._HAS_DEFAULT_FACTORY):  # type: ignore[attr-defined]
    register(type(_sentinel), _sentinel_reduce)
