"""Functions, lambdas and closures: by name when importable, otherwise by value.

By value means: the code object (through ``marshal``), the globals the code actually
uses, defaults, closure cells and the function's ``__dict__``. Cells are created empty
and filled afterwards, so a closure may refer to itself or to the function.

Bound methods travel as their object and name, as with pickle, when that finds the
very method again; otherwise as their function and the object it is bound to. A
``functools.lru_cache`` wrapper that cannot be imported travels as the function it
wraps and its cache settings (the cached results stay behind).
"""

from __future__ import annotations

import functools
import marshal
import opcode
import types
from typing import Any

from .._registry import register
from . import _tracking

__all__ = ("global_names",)

_GLOBAL_OPS = frozenset(
    opcode.opmap[name] for name in ("LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL")
)
_names_cache: dict[types.CodeType, frozenset[str]] = {}


class _EmptyCell:
    """Marks a closure cell that holds no value yet."""


def global_names(code: types.CodeType) -> frozenset[str]:
    """The global names *code* (and the code nested in it) loads, stores or deletes."""
    names = _names_cache.get(code)
    if names is None:
        import dis  # (here: a process that only loads functions never needs it)

        found = {ins.argval for ins in dis.get_instructions(code) if ins.opcode in _GLOBAL_OPS}
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                found |= global_names(const)
        names = frozenset(found)
        if len(_names_cache) > 10_000:
            _names_cache.clear()
        _names_cache[code] = names
    return names


def _rebuild_code(data: bytes) -> types.CodeType:
    return marshal.loads(data)


@register(types.CodeType)
def _code_reduce(code: types.CodeType) -> tuple[Any, ...]:
    return _rebuild_code, (marshal.dumps(code),)


@register(types.CellType)
def _cell_reduce(cell: types.CellType) -> tuple[Any, ...]:
    try:
        return types.CellType, (cell.cell_contents,)
    except ValueError:
        return types.CellType, ()


def _rebuild_function(
    tid: str, code: types.CodeType, gid: str, module: str, name: str, ncells: int
) -> types.FunctionType:
    existing = _tracking.lookup(tid)
    if existing is not None:
        return existing
    closure = None if ncells < 0 else tuple(types.CellType() for _ in range(ncells))
    func = types.FunctionType(code, _tracking.globals_for(gid, module), name, None, closure)
    _tracking.mark_rebuilt(tid, func)
    return func


def _set_function_state(func: types.FunctionType, state: dict[str, Any]) -> types.FunctionType:
    if not _tracking.needs_state(func):
        return func
    func.__globals__.update(state["globals"])
    func.__defaults__ = state["defaults"]
    func.__kwdefaults__ = state["kwdefaults"]
    func.__qualname__ = state["qualname"]
    func.__module__ = state["module"]
    func.__doc__ = state["doc"]
    func.__annotations__ = state["annotations"]
    func.__dict__.update(state["dict"])
    for cell, value in zip(func.__closure__ or (), state["cells"], strict=True):
        if value is not _EmptyCell:
            cell.cell_contents = value
    return func


@register(types.FunctionType)
def _function_reduce(func: types.FunctionType) -> Any:
    name = _tracking.by_reference_name(func)
    if name is not None:
        return name
    code = func.__code__
    namespace = func.__globals__
    used = {n: namespace[n] for n in global_names(code) if n in namespace}
    cells = []
    for cell in func.__closure__ or ():
        try:
            cells.append(cell.cell_contents)
        except ValueError:
            cells.append(_EmptyCell)
    state = {
        "globals": used,
        "defaults": func.__defaults__,
        "kwdefaults": func.__kwdefaults__,
        "qualname": func.__qualname__,
        "module": func.__module__,
        "doc": func.__doc__,
        "annotations": func.__annotations__,
        "dict": dict(func.__dict__),
        "cells": cells,
    }
    ncells = -1 if func.__closure__ is None else len(func.__closure__)
    args = (
        _tracking.tracker_id(func),
        code,
        _tracking.globals_id(namespace),
        namespace.get("__name__", func.__module__),
        func.__name__,
        ncells,
    )
    return _rebuild_function, args, state, None, None, _set_function_state


def _rebuild_method(func: Any, obj: Any) -> types.MethodType:
    return types.MethodType(func, obj)


@register(types.MethodType)
def _method_reduce(method: types.MethodType) -> tuple[Any, ...]:
    func, obj = method.__func__, method.__self__
    name = getattr(func, "__name__", None)
    try:
        found = isinstance(name, str) and getattr(obj, name) == method
    except Exception:
        found = False
    if found:  # as pickle does: the receiver binds what its own class holds
        return getattr, (obj, name)
    # getattr would find nothing (a lambda stored as a method) or something else (an
    # instance attribute shadowing the method): send the function itself.
    return _rebuild_method, (func, obj)


def _rebuild_lru_cache(tid: str, func: Any, maxsize: int | None, typed: bool) -> Any:
    existing = _tracking.lookup(tid)
    if existing is not None:
        return existing
    wrapper = functools.lru_cache(maxsize=maxsize, typed=typed)(func)
    _tracking.mark_rebuilt(tid, wrapper)
    return wrapper


def _lru_cache_reduce(wrapper: functools._lru_cache_wrapper[Any]) -> Any:
    name = _tracking.by_reference_name(wrapper)
    if name is not None:
        return name
    params = wrapper.cache_parameters()
    args = (_tracking.tracker_id(wrapper), wrapper.__wrapped__, params["maxsize"], params["typed"])
    return _rebuild_lru_cache, args


# The C wrapper class; without _functools, lru_cache makes plain functions instead.
if isinstance(functools._lru_cache_wrapper, type):
    register(functools._lru_cache_wrapper, _lru_cache_reduce)
