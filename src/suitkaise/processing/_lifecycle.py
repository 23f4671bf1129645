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
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import types
import uuid
from typing import Any

from ..timing import Sktimer
from ._config import ProcessConfig

__all__ = (
    "INTERNALS",
    "LIFECYCLE",
    "RUN_SECTIONS",
    "BoundLifecycle",
    "InitWrapper",
    "Internals",
    "LifecycleMethod",
    "internals",
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


class Internals:
    """What an instance needs besides the user's attributes.

    ``token`` identifies the instance across processes; ``config``, ``timers`` and
    ``process_timer`` travel with it; ``handle`` (parent side) and ``child`` (child
    side) are local to one process.
    """

    __slots__ = ("child", "config", "handle", "process_timer", "timers", "token")

    def __init__(self, cls: type) -> None:
        self.token = uuid.uuid4().hex
        self.config = ProcessConfig(cls.__qualname__)
        self.timers: dict[str, Sktimer] = {}
        self.process_timer = Sktimer()
        self.handle: Any = None
        self.child: Any = None

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


def internals(obj: Any) -> Internals:
    """The :class:`Internals` of an ``Skprocess`` instance."""
    return obj.__dict__[INTERNALS]  # type: ignore[no-any-return]


def rebuild_instance(cls: type, token: str) -> Any:
    """Unpickling entry point: the parent's own instance while reclaiming it, else new."""
    target = reclaim.get()
    if target is not None and target[0] == token and type(target[1]) is cls:
        return target[1]
    return cls.__new__(cls)


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
        return f"<lifecycle method {self.__qualname__}>"


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
        return f"<bound lifecycle method {self._method.__qualname__} of {self.__self__!r}>"


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
        return f"<Skprocess __init__ {self.__qualname__}>"


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
