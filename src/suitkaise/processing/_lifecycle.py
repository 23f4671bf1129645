"""Class-level machinery of ``Skprocess``: lifecycle methods with timers, the wrapped
``__init__``, and the per-instance internals that never travel as user state.

``Skprocess.__init_subclass__`` replaces each lifecycle method a class defines with a
:class:`LifecycleMethod` descriptor, so ``p.__run__`` is a :class:`BoundLifecycle`
whose ``.timer`` is *this instance's* timer, and replaces ``__init__`` with an
:class:`InitWrapper` that opens ``process_config`` while it runs. Both are plain
module-level classes, so a class sent by value (defined in ``__main__`` or in a
function) carries them through cerial like any other attribute.

Instances travel with ``__reduce__`` -> :func:`rebuild_instance`. While the parent
loads the final state its child sent back, :data:`reclaim` names the parent's own
instance, and the rebuilt object *is* that instance: its attributes are replaced in
place, so references to ``p`` (even from inside its own attributes) stay valid.

Under the fork start method an instance travels as a :class:`ForkPayload` instead
(:func:`fork_payload` in the parent, :func:`load_fork_payload` in the child): the same
result as cerial's, with far less work in the new child, where every first touch of
code and objects is slow (copy-on-write).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import types
import weakref
from typing import Any

from .. import cerial
from ..timing import Sktimer
from ._config import ProcessConfig

__all__ = (
    "INTERNALS",
    "LIFECYCLE",
    "RUN_SECTIONS",
    "BoundLifecycle",
    "ForkPayload",
    "InitWrapper",
    "Internals",
    "LifecycleMethod",
    "arriving",
    "fork_payload",
    "internals",
    "load_fork_payload",
    "new_bare",
    "reclaim",
    "rebuild_instance",
    "wrap_class",
)

#: The lifecycle methods, in the order they run.
LIFECYCLE: tuple[str, ...] = (
    "__prerun__",
    "__run__",
    "__postrun__",
    "__onfinish__",
    "__result__",
    "__error__",
)
#: The sections that make up one run.
RUN_SECTIONS: tuple[str, ...] = ("__prerun__", "__run__", "__postrun__")

#: The instance attribute that holds the :class:`Internals` (never sent as user state).
INTERNALS = "_skprocess_internals"

#: ``(token, instance)`` while the parent loads its child's final state.
reclaim: contextvars.ContextVar[tuple[str, Any] | None] = contextvars.ContextVar(
    "suitkaise_processing_reclaim", default=None
)

#: ``(cls, internals)`` while an instance of *cls* is rebuilt: ``Skprocess.__new__``
#: takes these internals rather than making new ones that would be replaced at once.
arriving: contextvars.ContextVar[tuple[type, Internals] | None] = contextvars.ContextVar(
    "suitkaise_processing_arriving", default=None
)


class Internals:
    """What an instance needs besides the user's attributes.

    ``token`` identifies the instance across processes; ``config``, ``timers`` and
    ``process_timer`` travel with it; ``handle`` (parent side), ``child`` (child
    side) and ``bound`` (its bound ``sk`` methods) are local to one process.
    """

    __slots__ = ("bound", "child", "config", "handle", "process_timer", "timers", "token")

    def __init__(self, cls: type) -> None:
        self.token = os.urandom(16).hex()
        self.config = ProcessConfig(cls.__qualname__)
        self.timers: dict[str, Sktimer] = {}
        self.process_timer = Sktimer()
        self.handle: Any = None
        self.child: Any = None
        self.bound: dict[str, Any] = {}

    @classmethod
    def blank(cls, token: str) -> Internals:
        """Internals whose fields :meth:`load` fills in (an instance being rebuilt)."""
        inner = cls.__new__(cls)
        inner.token = token
        inner.handle = inner.child = None
        inner.bound = {}
        return inner

    def fork_copy(self) -> Internals:
        """What cerial would rebuild from :meth:`portable` in another process, made here:
        new objects from what each one's pickling keeps (a closed config, timers with
        their times and new locks)."""
        inner = Internals.blank(self.token)
        rebuild, args = self.config.__reduce__()
        inner.config = rebuild(*args)
        inner.timers = {name: _timer_copy(timer) for name, timer in self.timers.items()}
        inner.process_timer = _timer_copy(self.process_timer)
        return inner

    def timer(self, name: str) -> Sktimer:
        found = self.timers.get(name)
        if found is None:
            found = self.timers[name] = Sktimer()
        return found

    def portable(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "config": self.config,
            "timers": self.timers,
            "process_timer": self.process_timer,
        }

    def load(self, portable: dict[str, Any]) -> None:
        self.token = portable["token"]
        self.config = portable["config"]
        self.timers = portable["timers"]
        self.process_timer = portable["process_timer"]


def _timer_copy(timer: Sktimer) -> Sktimer:
    copy = Sktimer.__new__(Sktimer)
    copy.__setstate__(timer.__getstate__())
    return copy


def internals(obj: Any) -> Internals:
    """The :class:`Internals` of an ``Skprocess`` instance."""
    return obj.__dict__[INTERNALS]


def rebuild_instance(cls: type, token: str) -> Any:
    """Unpickling entry point: the parent's own instance while reclaiming it, else new."""
    target = reclaim.get()
    if target is not None and target[0] == token and type(target[1]) is cls:
        return target[1]
    return new_bare(cls, Internals.blank(token))


def new_bare(cls: type, inner: Internals) -> Any:
    """``cls.__new__(cls)`` (a user's own ``__new__`` still runs) with *inner* as the
    new instance's internals; no ``__init__``."""
    mark = arriving.set((cls, inner))
    try:
        return cls.__new__(cls)  # type: ignore[call-overload]
    finally:
        arriving.reset(mark)


# ------------------------------------------------------------ the fork start method

#: Types whose values a forked child may take from the parent's memory as they are:
#: immutable, so the copy the fork makes is exactly what cerial would rebuild.
_ATOMS = frozenset({type(None), bool, int, float, complex, str, bytes})
#: Classes cerial has serialized (by value, where they need it) in this process, by
#: id() (a metaclass may make its classes unhashable).
_sendable: dict[int, weakref.ref[type]] = {}


def _check_sendable(cls: type) -> None:
    """Serialize *cls* once, for the error it may raise; later calls cost a lookup."""
    key = id(cls)
    known = _sendable.get(key)
    if known is not None and known() is cls:
        return
    cerial.serialize(cls)

    def forget(ref: weakref.ref[type]) -> None:
        if _sendable.get(key) is ref:
            del _sendable[key]

    _sendable[key] = weakref.ref(cls, forget)


class ForkPayload:
    """An instance ready to be forked into its child.

    A forked child starts with a copy of the parent's memory, so it already holds the
    class itself (cerial sends a class defined in ``__main__`` by value, but a process
    that has the original gets the original back: the one the fork copied) and the
    internals (:meth:`Internals.fork_copy`, fresh copies as cerial would make). Only the
    user's attributes go through cerial, in :attr:`data` -- and not even they when all
    of them are plain immutable values (:attr:`attributes`).

    When making an instance runs no code of the user's (no ``__new__`` but
    ``Skprocess.__new__`` in the class's MRO), the new instance is made here, before
    the fork, as :attr:`instance`: the child only adds what :attr:`data` holds.
    """

    __slots__ = ("attributes", "cls", "data", "instance", "internals", "lifecycle")

    def __init__(self, cls: type, inner: Internals, attributes: dict[str, Any] | None,
                 data: bytes | None, plain_new: bool) -> None:
        self.cls = cls
        self.internals = inner
        self.attributes = attributes
        self.data = data
        self.lifecycle: Any = None  # see _runner.prepare_fork
        self.instance: Any = None
        if plain_new:  # (what Skprocess.__new__ and new_bare would do, done here)
            self.instance = object.__new__(cls)
            self.instance.__dict__[INTERNALS] = inner
            if attributes is not None:
                self.instance.__dict__.update(attributes)


def fork_payload(obj: Any, plain_new: bool) -> ForkPayload:
    """*obj* ready for :func:`load_fork_payload` in a forked child; *plain_new*: its
    class makes instances with ``Skprocess.__new__`` alone.

    Raises cerial's ``SerializationError`` exactly where ``cerial.serialize(obj)`` does,
    so that ``start()`` fails the same way under every start method.
    """
    cls = type(obj)
    attributes = dict(obj.__dict__)
    inner = attributes.pop(INTERNALS)
    try:
        _check_sendable(cls)  # once per class: what a by-value class carries rarely changes
        if not all(type(value) in _ATOMS for value in attributes.values()):
            data = cerial.serialize(attributes)
            return ForkPayload(cls, inner.fork_copy(), None, data, plain_new)
    except cerial.SerializationError:
        cerial.serialize(obj)  # the error as the other start methods raise it (naming obj)
        raise
    return ForkPayload(cls, inner.fork_copy(), attributes, None, plain_new)


def load_fork_payload(payload: ForkPayload) -> Any:
    """The instance in *payload*, in the forked child."""
    obj = payload.instance
    if obj is None:
        obj = new_bare(payload.cls, payload.internals)
        if payload.attributes is not None:
            obj.__dict__.update(payload.attributes)
    if payload.data is not None:
        # A reference to the instance inside its own attributes is the instance itself.
        mark = reclaim.set((payload.internals.token, obj))
        try:
            attributes = cerial.deserialize(payload.data)
        finally:
            reclaim.reset(mark)
        obj.__dict__.update(attributes)
    return obj


class LifecycleMethod:
    """Descriptor for a lifecycle method a class defines; binds to a :class:`BoundLifecycle`."""

    def __init__(self, func: types.FunctionType, name: str) -> None:
        functools.update_wrapper(self, func)
        self.func = func
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return BoundLifecycle(self, obj)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<lifecycle method {self.func.__qualname__}>"


class BoundLifecycle:
    """A lifecycle method bound to an instance; ``.timer`` is the instance's timer for it.

    Example::

        >>> from suitkaise.processing import Skprocess
        >>> class Job(Skprocess):
        ...     def __run__(self):
        ...         pass
        >>> Job().__run__.timer.num_times
        0
    """

    __slots__ = ("__self__", "_method")

    def __init__(self, method: LifecycleMethod, obj: Any) -> None:
        self._method = method
        self.__self__ = obj

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._method.func(self.__self__, *args, **kwargs)

    @property
    def timer(self) -> Sktimer:
        """The :class:`~suitkaise.timing.Sktimer` of this method on this instance."""
        return internals(self.__self__).timer(self._method.name)

    @property
    def __func__(self) -> types.FunctionType:
        return self._method.func

    @property
    def __name__(self) -> str:
        return self._method.name

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(types.MethodType(self._method.func, self.__self__))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BoundLifecycle):
            return NotImplemented
        return self._method is other._method and self.__self__ is other.__self__

    def __hash__(self) -> int:
        return hash((id(self._method), id(self.__self__)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (getattr, (self.__self__, self._method.name))

    def __repr__(self) -> str:
        return f"<bound lifecycle method {self._method.func.__qualname__} of {self.__self__!r}>"


class InitWrapper:
    """A user's ``__init__``, run with ``process_config`` open for changes."""

    def __init__(self, init: types.FunctionType) -> None:
        functools.update_wrapper(self, init)
        self.init = init

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return types.MethodType(self, obj)

    def __call__(self, obj: Any, *args: Any, **kwargs: Any) -> None:
        gate = internals(obj).config.gate
        gate.depth += 1
        try:
            self.init(obj, *args, **kwargs)
        finally:
            gate.depth -= 1

    def __repr__(self) -> str:
        return f"<Skprocess __init__ {self.init.__qualname__}>"


def wrap_class(cls: type) -> None:
    """Wrap the lifecycle methods and ``__init__`` that *cls* itself defines."""
    for name in LIFECYCLE:
        value = cls.__dict__.get(name)
        if isinstance(value, types.FunctionType):
            if inspect.iscoroutinefunction(value) or inspect.isasyncgenfunction(value):
                raise TypeError(
                    f"{cls.__qualname__}.{name} must be a plain method, not async: "
                    "lifecycle methods run in their own process, so they simply block"
                )
            setattr(cls, name, LifecycleMethod(value, name))
    init = cls.__dict__.get("__init__")
    if isinstance(init, types.FunctionType):
        cls.__init__ = InitWrapper(init)  # type: ignore[misc]
