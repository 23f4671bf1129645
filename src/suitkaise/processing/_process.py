"""``Skprocess``: the class users inherit from to run code in its own process.

The parent-side methods (``start``, ``wait``, ``result``, ``kill``) drive a
:class:`~._handle.ParentHandle`; ``tell``, ``listen`` and ``stop`` work from both
sides (in the child they go through :class:`~._runner.ChildSide`). The lifecycle
itself runs in the child, in :mod:`._runner`.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from .. import cerial
from ..sk import sk
from ..timing import Sktimer
from ._config import ProcessConfig
from ._context import MISSING_MAIN_GUARD_EXIT, bootstrapping, get_context
from ._errors import ResultTimeoutError
from ._handle import ParentHandle, reap_ended
from ._lifecycle import (
    INTERNALS,
    Internals,
    arriving,
    fork_payload,
    internals,
    rebuild_instance,
    wrap_class,
)

__all__ = ("Skprocess",)


class _BoundOnce:
    """An ``sk`` method that each instance binds once.

    Binding an ``SkFunction`` builds a new bound copy on every attribute access; a
    loop of ``p.listen()`` would pay for that on every message. The bound copy is
    kept in the instance's internals (never sent anywhere) instead.
    """

    def __init__(self, function: Any) -> None:
        functools.update_wrapper(self, function)  # type: ignore[arg-type]
        self.function = function
        self.name = function.__name__

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self.function.__get__(None, owner)
        bound = obj.__dict__[INTERNALS].bound  # (inlined internals(): listen is hot)
        method = bound.get(self.name)
        if method is None:
            method = bound[self.name] = self.function.__get__(obj, owner)
        return method


def _result_timeout(self: Skprocess, seconds: float | None) -> Any:
    def call() -> Any:
        return self._result(seconds)

    return call


class Skprocess:
    """Inherit from this class to run ``__run__`` (and the other lifecycle methods) in
    a process of its own.

    The user's ``__init__`` runs in the parent, with ``process_config`` open for
    changes (internal setup has already happened: never call ``super().__init__()``).
    ``start()`` sends the instance to a new process with cerial, where the lifecycle
    runs: ``__prerun__``, ``__run__``, ``__postrun__`` once per run, then
    ``__onfinish__``, then ``__result__`` (or ``__error__`` after an error). When the
    process ends, the instance in the parent takes the child's final attributes and
    timers.

    ``result()`` and errors: without ``__error__``, an error makes ``result()`` raise
    the :class:`ProcessError` (``RunError`` etc.). With ``__error__`` defined, the error
    counts as handled and ``result()`` returns what ``__error__`` returned;
    ``__error__(self, error)`` may take the error as an argument. ``wait()`` raises
    only when the process could not finish its lifecycle at all: it died (signal,
    ``os._exit``, crash) or was killed by the timeout watchdog.

    Example::

        >>> from suitkaise.processing import Skprocess
        >>> class Count(Skprocess):
        ...     def __init__(self, upto):
        ...         self.upto = upto
        ...         self.total = 0
        ...         self.process_config.runs = upto
        ...     def __run__(self):
        ...         self.total += 1
        ...     def __result__(self):
        ...         return self.total
        >>> p = Count(3)
        >>> p.run()
        3
        >>> p.total, p.__run__.timer.num_times
        (3, 3)
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Skprocess:
        self = super().__new__(cls)
        given = arriving.get()  # set while an instance is rebuilt (see _lifecycle.new_bare)
        inner = given[1] if given is not None and given[0] is cls else Internals(cls)
        self.__dict__[INTERNALS] = inner
        return self

    def __init__(self) -> None:
        pass

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        wrap_class(cls)

    # --------------------------------------------------------------- serialization

    def __reduce__(self) -> tuple[Any, ...]:
        state = dict(self.__dict__)
        state[INTERNALS] = state[INTERNALS].portable()
        return (rebuild_instance, (type(self), internals(self).token), state)

    def __setstate__(self, state: dict[str, Any]) -> None:
        portable = state.pop(INTERNALS)
        own = internals(self)
        self.__dict__.clear()
        self.__dict__.update(state)
        self.__dict__[INTERNALS] = own
        own.load(portable)

    # ------------------------------------------------------------------ settings

    @property
    def process_config(self) -> ProcessConfig:
        """The settings of this process (``runs``, ``join_in``, ``lives``, ``timeouts``).

        Change them inside ``__init__`` only; see :class:`ProcessConfig`.
        """
        return internals(self).config

    @process_config.setter
    def process_config(self, value: object) -> None:
        raise AttributeError(
            "process_config cannot be replaced; set its fields inside __init__, "
            "e.g. self.process_config.runs = 10"
        )

    @property
    def process_timer(self) -> Sktimer:
        """An :class:`~suitkaise.timing.Sktimer` of prerun + run + postrun, once per run."""
        return internals(self).process_timer

    # ------------------------------------------------------------------- control

    def start(self) -> None:
        """Start the process and return at once.

        Raises ``TypeError`` if the class defines no ``__run__``, ``RuntimeError`` if
        this instance was started before, and cerial's ``SerializationError`` if the
        instance cannot be sent to its process.
        """
        own = internals(self)
        cls = type(self)
        if own.child is not None:
            raise RuntimeError(f"{cls.__qualname__}.start() was called inside its own process")
        if own.handle is not None:
            raise RuntimeError(
                f"this {cls.__qualname__} was already started; "
                "create a new instance to run it again"
            )
        if not callable(getattr(cls, "__run__", None)):
            raise TypeError(
                f"{cls.__qualname__} must define __run__(self), the part of the process that "
                "repeats; it is the one lifecycle method that is required"
            )
        if bootstrapping():
            # A spawn/forkserver child is importing a main script that starts processes
            # unguarded. Leave at once and quietly (os._exit: forkserver children turn
            # SystemExit into status 1); the parent explains (see _handle._death_error).
            os._exit(MISSING_MAIN_GUARD_EXIT)
        ctx = get_context()
        try:
            if ctx.get_start_method() == "fork":
                payload: Any = fork_payload(self, _plain_new(cls))
            else:
                payload = cerial.serialize(self)
        except cerial.SerializationError as exc:
            exc.add_note(f"while sending {cls.__qualname__} to its new process in start()")
            raise
        reap_ended()
        ParentHandle(self, ctx, payload, own.config.timeouts.any())  # (it sets own.handle)

    def run(self) -> Any:
        """Start the process, wait for it to finish and return its result (see ``result()``)."""
        self.start()
        return self.result()

    @_BoundOnce
    @sk(supported=("asynced",))
    def wait(self, timeout: float | None = None) -> bool:
        """Block until the process has finished; ``False`` if *timeout* seconds passed first.

        Does not return while a failed run is being retried (``lives``). Raises a
        :class:`ProcessError` saying how the process died if it ended without finishing
        its lifecycle (killed by a signal, ``os._exit``, a crash, the timeout watchdog).
        ``await p.wait.asynced()()`` waits from async code.
        """
        return self._handle("wait").wait(_check_timeout(timeout, "wait"))

    def stop(self) -> None:
        """Ask the process to finish its current run, then ``__onfinish__`` and
        ``__result__``/``__error__``. Does not block; works from inside the process too."""
        own = internals(self)
        if own.child is not None:
            own.child.stop()
        else:
            self._handle("stop").stop()

    def kill(self) -> None:
        """End the process at once: no cleanup, no result (``result()`` returns ``None``).

        Ignores ``lives``. Does nothing if the process has already finished.
        """
        self._handle("kill").kill()

    def tell(self, data: Any) -> None:
        """Send *data* (anything cerial handles) to the other side; never blocks.

        From the parent it goes to the process, from inside the process to the parent;
        the other side receives it with ``listen()``.
        """
        own = self.__dict__[INTERNALS]  # (inlined internals(): tell and listen are hot)
        if own.child is not None:
            own.child.tell(data)
        elif own.handle is not None:
            own.handle.tell(data)
        else:
            self._handle("tell")  # raises: not started

    @_BoundOnce
    @sk(supported=("background", "asynced"))
    def listen(self, timeout: float | None = None) -> Any:
        """Block until the other side ``tell()``\\ s something and return it.

        Returns ``None`` if *timeout* seconds pass first, or (in the parent) once the
        process has ended and every message it sent has been received.
        """
        limit = None if timeout is None else _check_timeout(timeout, "listen")
        own = self.__dict__[INTERNALS]
        if own.child is not None:
            return own.child.listen(limit)
        if own.handle is not None:
            return own.handle.listen(limit)
        return self._handle("listen")  # raises: not started

    @_BoundOnce
    @sk(supported=("timeout", "background", "asynced"), timeout=_result_timeout)
    def result(self) -> Any:
        """Wait for the process and return what ``__result__`` returned.

        If an error happened: returns ``__error__``'s value when the class defines
        ``__error__``, else raises the :class:`ProcessError`. After ``kill()``: ``None``.
        ``p.result.timeout(s)()`` raises :class:`ResultTimeoutError` after *s* seconds.
        """
        return self._result(None)

    def _result(self, timeout: float | None) -> Any:
        handle = self._handle("result")
        if not handle.wait(timeout):
            raise ResultTimeoutError(
                f"{type(self).__qualname__} did not finish within {timeout}s (it goes on running)",
                timeout=timeout,
            )
        if handle.error is not None:
            raise handle.error.with_traceback(None)
        return handle.value

    def _handle(self, method: str) -> ParentHandle:
        own = internals(self)
        if own.child is not None:
            raise RuntimeError(f"{method}() cannot be called from inside the process itself")
        if own.handle is None:
            raise RuntimeError(
                f"{type(self).__qualname__}.{method}(): the process has not been started"
            )
        return own.handle


def _plain_new(cls: type) -> bool:
    """True when making an instance of *cls* runs no ``__new__`` but ``Skprocess``'s."""
    own = Skprocess.__dict__["__new__"]
    for klass in cls.__mro__[:-1]:  # (all but object)
        found = klass.__dict__.get("__new__")
        if found is not None and found is not own:
            return False
    return True


def _check_timeout(timeout: object, method: str) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{method}() timeout must be a number of seconds or None, got {timeout!r}")
    if timeout != timeout:
        raise ValueError(f"{method}() timeout must be a number, got NaN")
    if timeout == float("inf"):
        return None
    return max(float(timeout), 0.0)
