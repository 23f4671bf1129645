"""``SkFunction`` (a callable with modifiers) and the ``sk`` decorator."""

from __future__ import annotations

import functools
import inspect
import sys
import threading
import types
import weakref
from collections.abc import Callable, Coroutine, Iterable, Mapping
from concurrent.futures import Future
from typing import Any, Generic, ParamSpec, TypeVar, overload

from . import _runners
from ._errors import SkModifierError

__all__ = ("MODIFIERS", "SkFunction", "SkModule", "sk")

# functools.partial does not bind as a method before Python 3.14.
_PARTIAL_UNBOUND = sys.version_info < (3, 14)
P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

#: Every modifier, in the order they are listed in messages.
MODIFIERS: tuple[str, ...] = ("timeout", "background", "asynced", "retry", "rate_limit")

_UNBOUND: Any = object()  # the receiver of an SkFunction that is not bound to anything


def _check_names(names: str | Iterable[str], *, what: str) -> frozenset[str]:
    if isinstance(names, str):
        names = (names,)
    try:
        result = frozenset(names)
    except TypeError:
        raise TypeError(f"sk() {what} must be modifier names, got {names!r}") from None
    if not all(isinstance(n, str) for n in result):
        raise TypeError(f"sk() {what} must be modifier names (str), got {names!r}")
    unknown = sorted(n for n in result if n not in MODIFIERS)
    if unknown:
        raise ValueError(
            f"sk() {what}: unknown modifier(s) {', '.join(map(repr, unknown))}; "
            f"the modifiers are {', '.join(MODIFIERS)}"
        )
    return result


def _check_impl(name: str, impl: object) -> None:
    if not (callable(impl) or isinstance(impl, (staticmethod, classmethod))):
        raise TypeError(
            f"sk() custom {name}() implementation must be callable, "
            f"got {type(impl).__name__}: {impl!r}"
        )


def _is_async(func: object) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)


class SkFunction(Generic[P, R]):
    """A callable that also offers the ``sk`` modifiers.

    Made by :func:`sk`; call it as the wrapped callable (``f(x)``) or through
    a modifier (``f.timeout(5)(x)``). It is a descriptor like a plain
    function, so as a class attribute it binds to the instance it is read
    from: ``obj.method.timeout(5)(x)``. It keeps the wrapped callable's
    ``__name__``, ``__qualname__``, ``__doc__`` and ``__module__``, and
    ``__wrapped__`` is the wrapped callable (bound, when this is bound).

    A module-level ``SkFunction`` pickles by reference, as functions do; a
    bound one pickles as its instance plus the method's name.

    Example::

        >>> from suitkaise.sk import sk
        >>> @sk
        ... def double(x):
        ...     return x * 2
        >>> double(2), double.timeout(5)(3), double.retry(times=2)(4)
        (4, 6, 8)
    """

    __wrapped__: Callable[P, R]
    __self__: Any
    __qualname__: str

    def __init__(
        self,
        func: Callable[P, R],
        *,
        supported: Iterable[str] = MODIFIERS,
        custom: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        if not (callable(func) or isinstance(func, (staticmethod, classmethod))):
            raise TypeError(f"sk() needs a callable, got {type(func).__name__}: {func!r}")
        functools.update_wrapper(self, func)
        self._func: Any = func
        self._call: Callable[..., R] = func
        self._supported = _check_names(supported, what="supported")
        self._custom: dict[str, Any] = dict(custom or {})
        for name, impl in self._custom.items():
            _check_impl(name, impl)
        unsupported_custom = sorted(set(self._custom) - self._supported)
        if unsupported_custom:
            raise ValueError(
                f"sk(): custom implementation given for unsupported modifier(s) "
                f"{', '.join(unsupported_custom)}"
            )
        self._label: str = getattr(func, "__name__", None) or type(func).__name__
        self._receiver: Any = _UNBOUND
        self._bind_args: tuple[Any, Any] = (None, None)
        self._unbound: SkFunction[P, R] = self
        # Rate limiters, one per receiver (``None`` when unbound); a bound copy
        # shares this dict with the SkFunction it came from.
        self._limiters: dict[int | None, _runners.RateLimiter] = {}
        self._limiters_lock = threading.Lock()

    # ----------------------------------------------------------- calling, binding

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._call(*args, **kwargs)

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        func = self._func
        if self._receiver is not _UNBOUND or isinstance(func, staticmethod):
            return self
        if isinstance(func, classmethod):
            receiver = owner if owner is not None else type(obj)
        elif obj is None:
            return self
        else:
            receiver = obj
        getter = getattr(type(func), "__get__", None)
        if getter is None or (_PARTIAL_UNBOUND and isinstance(func, functools.partial)):
            # builtins, partial objects: not bound, like staticmethod (3.13 gave partial
            # a __get__ that only warns it will bind, which it does from 3.14 on)
            return self
        bound = object.__new__(type(self))
        bound.__dict__.update(self.__dict__)
        bound._call = getter(func, obj, owner)
        bound.__wrapped__ = bound._call
        bound.__self__ = receiver
        bound._receiver = receiver
        bound._bind_args = (obj, owner)
        return bound

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SkFunction):
            return NotImplemented
        return self._unbound is other._unbound and self._receiver is other._receiver

    def __hash__(self) -> int:
        return hash((id(self._unbound), id(self._receiver)))

    def __repr__(self) -> str:
        qualname = getattr(self, "__qualname__", self._label)
        if self._receiver is _UNBOUND:
            return f"<sk function {qualname}>"
        return f"<sk bound method {qualname} of {self._receiver!r}>"

    def __reduce__(self) -> str | tuple[Any, ...]:
        if self._receiver is not _UNBOUND:
            obj, owner = self._bind_args
            return (_rebind, (self._unbound, obj, owner))
        if self._importable():
            return str(self.__qualname__)
        return (_rebuild, (self._func, tuple(sorted(self._supported)), self._custom))

    def _importable(self) -> bool:
        target: Any = sys.modules.get(getattr(self, "__module__", None) or "")
        for part in (getattr(self, "__qualname__", None) or "<>").split("."):
            target = getattr(target, part, None)
        return target is self

    # -------------------------------------------------------------- introspection

    @property
    def supported_modifiers(self) -> tuple[str, ...]:
        """The modifiers this callable offers, in the order of :data:`MODIFIERS`.

        Example::

            >>> from suitkaise.sk import sk
            >>> sk(unsupported=("retry", "rate_limit"))(print).supported_modifiers
            ('timeout', 'background', 'asynced')
        """
        return tuple(name for name in MODIFIERS if name in self._supported)

    def modifier(self, name: str) -> Callable[[Callable[..., Any]], SkFunction[P, R]]:
        """Return a decorator that gives this callable a custom *name* modifier.

        Works like ``property.setter``: it returns a *new* ``SkFunction`` with
        the implementation added (and the modifier supported), so give the
        decorated function the same name as the method. See the module
        docstring for what an implementation receives and returns.

        Example::

            >>> from suitkaise.sk import sk
            >>> class Job:
            ...     @sk(supported=("timeout",))
            ...     def result(self, timeout=None):
            ...         return "done"
            ...     @result.modifier("timeout")
            ...     def result(self, seconds):
            ...         return lambda: self.result(timeout=seconds)
            >>> Job().result.timeout(5)()
            'done'
        """
        if not isinstance(name, str):
            raise TypeError(f"modifier() takes one modifier name, got {name!r}")
        _check_names(name, what="modifier()")
        checked = name

        def register(impl: Callable[..., Any]) -> SkFunction[P, R]:
            _check_impl(checked, impl)
            return type(self)(
                self._func,
                supported=self._supported | {checked},
                custom={**self._custom, checked: impl},
            )

        return register

    # ------------------------------------------------------------------ modifiers

    def _check_supported(self, modifier: str) -> None:
        if modifier not in self._supported:
            offered = ", ".join(f"{m}()" for m in self.supported_modifiers) or "none"
            raise SkModifierError(
                f"{self._label}() does not support the {modifier}() modifier "
                f"(it supports: {offered})",
                name=self._label,
                modifier=modifier,
            )

    def _modifier(self, method: Callable[..., T], modifier: str) -> Callable[..., T]:
        """*method* (``self._timeout``, ...) as the user calls it: wrong arguments name
        the call they made, ``map.timeout(): missing a required argument: 'seconds'``,
        not this class's internals."""

        def modifier_call(*args: Any, **kwargs: Any) -> T:
            try:
                return method(*args, **kwargs)
            except TypeError:
                try:
                    inspect.signature(method).bind(*args, **kwargs)
                except TypeError as wrong:
                    raise TypeError(f"{self._label}.{modifier}(): {wrong}") from None
                raise

        functools.update_wrapper(modifier_call, method)  # (its signature, for help())
        modifier_call.__name__ = modifier
        modifier_call.__qualname__ = f"{self._label}.{modifier}"
        return modifier_call

    def _custom_call(self, modifier: str, *args: Any) -> Callable[..., Any] | None:
        """Build the modified callable from a custom implementation, if there is one."""
        impl = self._custom.get(modifier)
        if impl is None:
            return None
        if self._receiver is not _UNBOUND:
            getter = getattr(type(impl), "__get__", None)
            if getter is not None:
                obj, owner = self._bind_args
                if isinstance(self._func, classmethod) and not isinstance(
                    impl, (classmethod, staticmethod)
                ):
                    obj, owner = self._receiver, type(self._receiver)
                impl = getter(impl, obj, owner)
        elif isinstance(impl, (staticmethod, classmethod)):
            impl = impl.__func__
        result = impl(*args)
        if not callable(result):
            raise TypeError(
                f"the custom {modifier}() implementation of {self._label}() returned "
                f"{type(result).__name__}, not a callable"
            )
        return result

    def _wrap(self, wrapper: Callable[..., T]) -> Callable[..., T]:
        # The modified callable looks like the original one (name, doc, signature).
        functools.update_wrapper(wrapper, self._call, updated=())
        return wrapper

    @property
    def timeout(self) -> Callable[[float | None], Callable[P, R]]:
        """``f.timeout(seconds)(*args)``: call *f*, raising ``SkTimeoutError`` after *seconds*.

        The call runs in a new daemon thread while the caller waits at most
        *seconds* (an int or float, zero or more; ``None``, infinity and limits
        beyond :data:`threading.TIMEOUT_MAX` mean no limit: a plain call).
        A thread cannot be killed, so a call that times out goes on running
        in the background until it returns; its result is dropped.

        Example::

            >>> from suitkaise.sk import sk
            >>> sk(sum).timeout(1.0)([1, 2, 3])
            6
        """
        self._check_supported("timeout")
        return self._modifier(self._timeout, "timeout")

    def _timeout(self, seconds: float | None) -> Callable[P, R]:
        limit = _runners.check_timeout(seconds, name=self._label)
        custom = self._custom_call("timeout", limit)
        if custom is not None:
            return custom
        call, name = self._call, self._label

        def timed(*args: Any, **kwargs: Any) -> Any:
            return _runners.run_with_timeout(call, limit, args, kwargs, name=name)

        return self._wrap(timed)

    @property
    def background(self) -> Callable[[], Callable[P, Future[R]]]:
        """``f.background()(*args)``: start *f* in a daemon thread and return a ``Future`` at once.

        Example::

            >>> from suitkaise.sk import sk
            >>> future = sk(sum).background()([1, 2, 3])
            >>> future.result(timeout=5)
            6
        """
        self._check_supported("background")
        return self._modifier(self._background, "background")

    def _background(self) -> Callable[P, Future[R]]:
        custom = self._custom_call("background")
        if custom is not None:
            return custom
        call, name = self._call, self._label

        def in_background(*args: Any, **kwargs: Any) -> Future[Any]:
            return _runners.start_in_thread(call, args, kwargs, name=f"{name}.background")

        return self._wrap(in_background)

    @property
    def asynced(self) -> Callable[[], Callable[P, Coroutine[Any, Any, R]]]:
        """``await f.asynced()(*args)``: run *f* in a daemon thread without blocking the event loop.

        The modified callable is an ``async`` function; the thread starts
        when its coroutine is first awaited.

        Example::

            >>> import asyncio
            >>> from suitkaise.sk import sk
            >>> asyncio.run(sk(sum).asynced()([1, 2, 3]))
            6
        """
        self._check_supported("asynced")
        return self._modifier(self._asynced, "asynced")

    def _asynced(self) -> Callable[P, Coroutine[Any, Any, R]]:
        custom = self._custom_call("asynced")
        if custom is not None:
            return custom
        call, name = self._call, self._label

        async def asynced(*args: Any, **kwargs: Any) -> Any:
            return await _runners.run_async(call, args, kwargs, name=name)

        return self._wrap(asynced)

    @property
    def retry(
        self,
    ) -> Callable[..., Callable[P, R]]:
        """``f.retry(times=3, delay=0.0, backoff=1.0, exceptions=(Exception,))(*args)``.

        Makes up to *times* attempts in all, sleeping ``delay * backoff**i``
        seconds after failed attempt ``i`` (0, 1, ...). Only *exceptions*
        (a class or tuple of classes) are retried; any other error, and the
        last one, propagates (the last one with a note saying so).

        Example::

            >>> from suitkaise.sk import sk
            >>> attempts = []
            >>> @sk
            ... def flaky():
            ...     attempts.append(1)
            ...     if len(attempts) < 3:
            ...         raise ConnectionError("try again")
            ...     return "ok"
            >>> flaky.retry(times=3, exceptions=ConnectionError)()
            'ok'
        """
        self._check_supported("retry")
        return self._modifier(self._retry, "retry")

    def _retry(
        self,
        times: int = 3,
        delay: float = 0.0,
        backoff: float = 1.0,
        exceptions: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
    ) -> Callable[P, R]:
        n, pause, factor, errors = _runners.check_retry(
            times, delay, backoff, exceptions, name=self._label
        )
        custom = self._custom_call("retry", n, pause, factor, errors)
        if custom is not None:
            return custom
        call, name = self._call, self._label

        def retried(*args: Any, **kwargs: Any) -> Any:
            return _runners.run_with_retry(call, n, pause, factor, errors, args, kwargs, name=name)

        return self._wrap(retried)

    @property
    def rate_limit(self) -> Callable[[float], Callable[P, R]]:
        """``f.rate_limit(per_second)(*args)``: call *f*, at most *per_second* calls a second.

        Calls are spaced at least ``1 / per_second`` seconds apart (a call
        waits for its turn, it is never refused). The spacing is shared by
        every rate-limited call of the same function, or of the same method
        on the same instance, from any thread.

        Example::

            >>> from suitkaise.sk import sk
            >>> f = sk(abs)
            >>> [f.rate_limit(1000)(-n) for n in range(3)]
            [0, 1, 2]
        """
        self._check_supported("rate_limit")
        return self._modifier(self._rate_limit, "rate_limit")

    def _rate_limit(self, per_second: float) -> Callable[P, R]:
        rate = _runners.check_rate(per_second, name=self._label)
        custom = self._custom_call("rate_limit", rate)
        if custom is not None:
            return custom
        call, limiter = self._call, self._limiter()

        def limited(*args: Any, **kwargs: Any) -> Any:
            limiter.wait(rate)
            return call(*args, **kwargs)

        return self._wrap(limited)

    def _limiter(self) -> _runners.RateLimiter:
        receiver = self._receiver
        key = None if receiver is _UNBOUND else id(receiver)
        with self._limiters_lock:
            limiter = self._limiters.get(key)
            if limiter is None:
                limiter = self._limiters[key] = _runners.RateLimiter()
                if key is not None:
                    try:  # forget the limiter with its instance, so a reused id starts fresh
                        weakref.finalize(receiver, self._limiters.pop, key, None)
                    except TypeError:  # not weak-referenceable: kept for the process's life
                        pass
        return limiter


def _rebind(unbound: SkFunction[..., Any], obj: Any, owner: type | None) -> Any:
    return unbound.__get__(obj, owner)


def _rebuild(
    func: Callable[..., Any], supported: tuple[str, ...], custom: dict[str, Any]
) -> SkFunction[..., Any]:
    return SkFunction(func, supported=supported, custom=custom)


def _decorate_class(cls: type, supported: frozenset[str]) -> type:
    for name, value in list(vars(cls).items()):
        if name.startswith("_") or isinstance(value, SkFunction):
            continue
        inner = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
        if inspect.isfunction(inner) and not _is_async(inner):
            setattr(cls, name, SkFunction(value, supported=supported))
    return cls


@overload
def sk(target: type[T], /) -> type[T]: ...  # type: ignore[overload-overlap]
@overload
def sk(target: Callable[P, R], /) -> SkFunction[P, R]: ...
@overload
def sk(
    target: None = None,
    /,
    *,
    supported: str | Iterable[str] | None = None,
    unsupported: str | Iterable[str] | None = None,
    timeout: Callable[..., Any] | None = None,
    background: Callable[..., Any] | None = None,
    asynced: Callable[..., Any] | None = None,
    retry: Callable[..., Any] | None = None,
    rate_limit: Callable[..., Any] | None = None,
) -> Callable[[Any], Any]: ...


def sk(
    target: Any = None,
    /,
    *,
    supported: str | Iterable[str] | None = None,
    unsupported: str | Iterable[str] | None = None,
    timeout: Callable[..., Any] | None = None,
    background: Callable[..., Any] | None = None,
    asynced: Callable[..., Any] | None = None,
    retry: Callable[..., Any] | None = None,
    rate_limit: Callable[..., Any] | None = None,
) -> Any:
    """Give a function, or every public method of a class, the ``sk`` modifiers.

    ``@sk`` on a function returns an :class:`SkFunction`; ``@sk`` on a class
    wraps each public (not ``_``-prefixed) plain, static and class method
    defined in its body, skipping ``async`` ones, and returns the class.
    With keyword arguments, ``sk(...)`` returns the decorator:

    - *supported* or *unsupported* (one modifier name or several, not
      both) choose which modifiers are offered; asking for another raises
      :class:`SkModifierError`.
    - *timeout*, *background*, *asynced*, *retry*, *rate_limit*: a custom
      implementation of that modifier, for one function or method (not a
      class). See the module docstring.

    ``sk`` is meant for blocking callables: decorating an ``async def``
    function raises ``TypeError``.

    Example::

        >>> from suitkaise.sk import sk
        >>> @sk
        ... class Client:
        ...     def fetch(self, key):
        ...         return key.upper()
        >>> Client().fetch.timeout(5)("a")
        'A'
    """
    custom = {
        name: impl
        for name, impl in (
            ("timeout", timeout),
            ("background", background),
            ("asynced", asynced),
            ("retry", retry),
            ("rate_limit", rate_limit),
        )
        if impl is not None
    }
    for name, impl in custom.items():
        _check_impl(name, impl)
    if supported is not None and unsupported is not None:
        raise TypeError("sk() takes supported or unsupported, not both")
    if supported is not None:
        allowed = _check_names(supported, what="supported")
    elif unsupported is not None:
        allowed = frozenset(MODIFIERS) - _check_names(unsupported, what="unsupported")
    else:
        allowed = frozenset(MODIFIERS)

    def apply(obj: Any) -> Any:
        if isinstance(obj, type):
            if custom:
                raise TypeError(
                    "sk() custom modifier implementations belong to one function or "
                    f"method, not to a whole class ({obj.__qualname__})"
                )
            return _decorate_class(obj, allowed)
        if isinstance(obj, SkFunction):
            if not custom and supported is None and unsupported is None:
                return obj  # already done: keep its configuration
            # Re-decorating with options replaces the choice of modifiers; custom
            # implementations of modifiers still offered are kept unless replaced.
            kept = {k: v for k, v in obj._custom.items() if k in allowed}
            return SkFunction(obj._func, supported=allowed, custom={**kept, **custom})
        inner = obj.__func__ if isinstance(obj, (staticmethod, classmethod)) else obj
        if _is_async(inner):
            raise TypeError(
                f"sk() is for blocking callables; {getattr(inner, '__qualname__', inner)!r} "
                "is an async function"
            )
        return SkFunction(obj, supported=allowed, custom=custom)

    return apply if target is None else apply(target)


class SkModule(types.ModuleType):
    """The type of the ``suitkaise.sk`` module: calling the module calls :func:`sk`.

    Example::

        >>> from suitkaise import sk
        >>> @sk
        ... def f():
        ...     return 1
        >>> f.timeout(5)()
        1
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return sk(*args, **kwargs)
