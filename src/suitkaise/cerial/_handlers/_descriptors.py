"""classmethod, staticmethod, property and mappingproxy objects, as found in classes."""

from __future__ import annotations

import types
from typing import Any

from .._registry import register

__all__ = ()


@register(classmethod)
def _classmethod_reduce(obj: classmethod[Any, ..., Any]) -> tuple[Any, ...]:
    return classmethod, (obj.__func__,), dict(vars(obj)) or None


@register(staticmethod)
def _staticmethod_reduce(obj: staticmethod[..., Any]) -> tuple[Any, ...]:
    return staticmethod, (obj.__func__,), dict(vars(obj)) or None


@register(property)
def _property_reduce(obj: property) -> tuple[Any, ...]:
    return property, (obj.fget, obj.fset, obj.fdel, obj.__doc__)


@register(types.MappingProxyType)
def _mappingproxy_reduce(obj: types.MappingProxyType[Any, Any]) -> tuple[Any, ...]:
    return types.MappingProxyType, (dict(obj),)
