"""The table that maps a type to the function that reduces its instances.

A reducer has the signature of a ``copyreg`` reducer: ``reduce(obj)`` returns either
a string (store ``obj`` by reference under that qualified name) or a reduce tuple
``(rebuild, args[, state[, listitems[, dictitems[, state_setter]]]])``.

Lookup order for ``type(obj)``, first match wins:

1. the class defines ``__serialize__`` (the user's own hook beats every built-in; one
   without a classmethod ``__deserialize__`` is refused, as its bytes could not load);
2. an exact entry registered with :func:`register`;
3. an entry registered with ``subclasses=True`` for a base class, nearest in the MRO;
4. :data:`copyreg.dispatch_table`;
5. pickle's own ``__reduce_ex__``.

The answer is cached per type in :data:`DISPATCH`, a dict the C pickler reads directly
(its ``dispatch_table``), so after the first object of a type, lookups cost a C dict
probe and no Python call.
"""

from __future__ import annotations

import copyreg
import importlib
import operator
import pickle
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .._forklocks import renew_in_children

__all__ = ("DISPATCH", "PROTOCOL", "Reducer", "register", "register_lazy", "reducer_for")

PROTOCOL = 5

Reducer = Callable[[Any], Any]
R = TypeVar("R", bound=Reducer)

_exact: dict[type, Reducer] = {}
_inherited: dict[type, Reducer] = {}
_lazy: dict[str, str] = {}
_lock = threading.RLock()
renew_in_children(_lock)
# The built-in handlers register themselves when imported. That import costs more than
# the rest of cerial, and a process that only deserializes (a pool worker given plain
# data) never needs it, so it happens the first time the table is used. A handler
# module imported on its own (to rebuild an object) registers just its own reducers.
_BUILTIN_MODULES = (f"{__package__}._handlers.", f"{__package__}._reconnect.")
_NOT_LOADED, _LOADING, _LOADED = 0, 1, 2
_builtins = _NOT_LOADED
# (type, subclasses) registered by users: a built-in handler loaded later never
# replaces them.
_by_users: set[tuple[type, bool]] = set()
_CACHE_LIMIT = 50_000

_default_reduce = operator.methodcaller("__reduce_ex__", PROTOCOL)
# Types the pickler writes itself, before it ever looks at a dispatch table.
_NATIVE: frozenset[type] = frozenset(
    {type(None), bool, int, float, bytes, bytearray, str, tuple, list, dict, set, frozenset}
    | {pickle.PickleBuffer}
)


def _rebuild_from_hook(cls: Any, state: Any) -> Any:
    return cls.__deserialize__(state)


def _hook_reduce(obj: Any) -> tuple[Any, ...]:
    return _rebuild_from_hook, (type(obj), obj.__serialize__())


def _half_hook_reduce(obj: Any) -> tuple[Any, ...]:
    cls = type(obj)
    raise TypeError(
        f"{cls.__module__}.{cls.__qualname__} defines __serialize__ but no classmethod "
        "__deserialize__(cls, state), so its bytes could never be loaded; define both"
    )


def load_builtins() -> None:
    """Import every built-in handler, once; other threads wait until it is done.

    Done on first use; a process about to fork workers calls it first, so they are
    born with the handlers.
    """
    global _builtins
    with _lock:
        if _builtins != _NOT_LOADED:
            return  # loaded, or being loaded by this very thread
        _builtins = _LOADING
        try:
            importlib.import_module("._handlers", __package__).load_all()
            importlib.import_module("._reconnect", __package__)
        except BaseException:
            _builtins = _NOT_LOADED
            raise
        _builtins = _LOADED


def _load_lazy(cls: type) -> bool:
    """Import the handler module waiting for ``cls`` or a base class, if any."""
    with _lock:
        for base in cls.__mro__:
            module = _lazy.pop(f"{base.__module__}.{base.__qualname__}", None)
            if module is not None:
                importlib.import_module(module)
                return True
    return False


def _resolve(cls: type) -> Reducer:
    if _builtins != _LOADED:
        load_builtins()
    if _lazy and _load_lazy(cls):
        return _resolve(cls)
    if callable(getattr(cls, "__serialize__", None)) and not issubclass(cls, type):
        return (
            _hook_reduce if callable(getattr(cls, "__deserialize__", None)) else _half_hook_reduce
        )
    reducer = _exact.get(cls)
    if reducer is not None:
        return reducer
    for base in cls.__mro__:
        reducer = _inherited.get(base)
        if reducer is not None:
            return reducer
    reducer = copyreg.dispatch_table.get(cls)
    if reducer is not None:
        return reducer
    return _default_reduce


class _DispatchTable(dict[type, Reducer]):
    """``type -> reducer``, filled on first sight of each type."""

    def __missing__(self, cls: type) -> Reducer:
        reducer = _resolve(cls)
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[cls] = reducer
        return reducer


DISPATCH: dict[type, Reducer] = _DispatchTable()


def reducer_for(cls: type) -> Reducer:
    """The reducer ``serialize`` uses for instances of ``cls``."""
    return DISPATCH[cls]


def is_default(reducer: Reducer) -> bool:
    """True when ``reducer`` is pickle's own ``__reduce_ex__`` path."""
    return reducer is _default_reduce


def register(type_: type, reducer: Reducer | None = None, *, subclasses: bool = False) -> Any:
    """Teach ``serialize`` how to store instances of ``type_``.

    ``reducer(obj)`` returns a reduce tuple ``(rebuild, args[, state, ...])`` like
    ``copyreg``/``__reduce__``, or a qualified name to store ``obj`` by reference.
    With ``subclasses=True`` the reducer also serves subclasses of ``type_`` that have
    no entry of their own. Usable as a decorator::

        @register(MyResource)
        def _my_resource_reduce(obj):
            return MyResource, (obj.path,)
    """
    if not isinstance(type_, type):
        raise TypeError(f"register() needs a class, not {type(type_).__name__}")
    if type_ in _NATIVE and not subclasses:
        raise TypeError(
            f"register() cannot change how {type_.__name__} is stored: pickle writes it "
            "natively (subclasses=True still reaches its subclasses)"
        )

    def add(func: R) -> R:
        if not callable(func):
            raise TypeError(f"a reducer must be callable, not {type(func).__name__}")
        key = (type_, subclasses)
        with _lock:
            if not getattr(func, "__module__", "").startswith(_BUILTIN_MODULES):
                _by_users.add(key)
            elif key in _by_users:
                return func
            (_inherited if subclasses else _exact)[type_] = func
            DISPATCH.clear()
        return func

    return add if reducer is None else add(reducer)


def register_lazy(type_name: str, handler_module: str) -> None:
    """Import ``handler_module`` when an instance of ``type_name`` is first serialized.

    ``type_name`` is ``"module.QualName"`` of a class (subclasses match too);
    ``handler_module`` registers the real reducer when imported. This keeps
    ``import suitkaise.cerial`` from importing every driver it knows (sqlite3, socket,
    database clients): a program that holds such an object has imported it already.
    """
    if not isinstance(type_name, str) or not isinstance(handler_module, str):
        raise TypeError("register_lazy() takes two strings: a type name and a module name")
    with _lock:
        _lazy[type_name] = handler_module
        DISPATCH.clear()
