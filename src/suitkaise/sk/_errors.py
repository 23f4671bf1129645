"""The errors of the ``sk`` modifiers."""

from __future__ import annotations

__all__ = ("SkModifierError", "SkTimeoutError")


class SkModifierError(TypeError):
    """Raised when a callable is asked for a modifier it does not support.

    It is a ``TypeError``: using the modifier is a misuse of that callable,
    like calling it with the wrong arguments.

    Example::

        >>> from suitkaise.sk import sk, SkModifierError
        >>> @sk(supported=("asynced",))
        ... def wait():
        ...     return True
        >>> try:
        ...     wait.retry
        ... except SkModifierError as e:
        ...     print(e)
        wait() does not support the retry() modifier (it supports: asynced())
    """

    def __init__(self, message: str, *, name: str = "", modifier: str = "") -> None:
        super().__init__(message)
        #: The callable's name, e.g. ``"wait"``.
        self.name = name
        #: The modifier that was asked for, e.g. ``"retry"``.
        self.modifier = modifier

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only fields would be lost by the default exception pickling.
        return (_rebuild_modifier_error, (str(self), self.name, self.modifier))


class SkTimeoutError(TimeoutError):
    """Raised by ``f.timeout(seconds)(...)`` when *f* does not return in time.

    It is a builtin ``TimeoutError`` too, so ``except TimeoutError`` catches it.
    The call goes on running in its worker thread: Python cannot kill a thread.

    Example::

        >>> import time
        >>> from suitkaise.sk import sk, SkTimeoutError
        >>> @sk
        ... def slow():
        ...     time.sleep(0.2)
        >>> try:
        ...     slow.timeout(0.01)()
        ... except SkTimeoutError as e:
        ...     print(e.seconds)
        0.01
    """

    def __init__(self, message: str, *, name: str = "", seconds: float = 0.0) -> None:
        super().__init__(message)
        #: The callable's name.
        self.name = name
        #: The time limit that was exceeded, in seconds.
        self.seconds = seconds

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only fields would be lost by the default exception pickling.
        return (_rebuild_timeout_error, (str(self), self.name, self.seconds))


def _rebuild_modifier_error(message: str, name: str, modifier: str) -> SkModifierError:
    return SkModifierError(message, name=name, modifier=modifier)


def _rebuild_timeout_error(message: str, name: str, seconds: float) -> SkTimeoutError:
    return SkTimeoutError(message, name=name, seconds=seconds)
