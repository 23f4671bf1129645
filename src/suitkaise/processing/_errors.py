"""The ``ProcessError`` hierarchy: every error a process reports to its parent.

::

    ProcessError                      base; also: the child died, could not load, ...
    ├── PreRunError                   raised by __prerun__
    ├── RunError                      raised by __run__
    ├── PostRunError                  raised by __postrun__
    ├── OnFinishError                 raised by __onfinish__
    ├── ResultError                   raised by __result__ (or its value cannot travel)
    ├── ErrorHandlerError             raised by __error__ itself
    ├── ProcessTimeoutError           a lifecycle section ran past its timeout (TimeoutError)
    └── ResultTimeoutError            result.timeout(s)() gave up waiting (TimeoutError)

Every error crosses the process boundary with cerial (or pickle) with all its fields:
``__reduce__`` rebuilds it without calling ``__init__``, from ``args`` and ``__dict__``.
The child's formatted traceback travels beside the error and becomes its ``__cause__``
in the parent (a :class:`RemoteTraceback`), as :mod:`concurrent.futures` does.
"""

from __future__ import annotations

from typing import Any

__all__ = (
    "ErrorHandlerError",
    "OnFinishError",
    "PostRunError",
    "PreRunError",
    "ProcessError",
    "ProcessTimeoutError",
    "RemoteTraceback",
    "ResultError",
    "ResultTimeoutError",
    "RunError",
    "SECTION_ERRORS",
)


def _rebuild_error(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ProcessError(Exception):
    """Base class of every error a process reports; wraps the error that happened.

    Raised as is when something goes wrong outside the lifecycle methods: the child
    process died (killed by a signal, ``os._exit``, a crash), could not load the
    process object, or could not send its final state back.

    ``original_error`` is the exception the user's code raised (``None`` when there is
    none, e.g. the process was killed), and ``current_run`` the run it happened on,
    counted from 1 (``None`` when unknown, 0 before the first run).

    Example::

        >>> from suitkaise.processing import ProcessError
        >>> e = ProcessError("Error in __run__ on run 5",
        ...                  original_error=ConnectionError("down"), current_run=5)
        >>> str(e), e.original_error, e.current_run
        ('Error in __run__ on run 5', ConnectionError('down'), 5)
    """

    def __init__(
        self,
        message: str = "",
        *,
        original_error: BaseException | None = None,
        current_run: int | None = None,
    ) -> None:
        super().__init__(message)
        #: The exception raised by the user's code, if any.
        self.original_error = original_error
        #: The run (counted from 1) during or after which the error happened.
        self.current_run = current_run

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields would be lost by the default exception pickling.
        return (_rebuild_error, (type(self), self.args, dict(self.__dict__)))


class PreRunError(ProcessError):
    """Raised when ``__prerun__`` raises; ``original_error`` is what it raised."""


class RunError(ProcessError):
    """Raised when ``__run__`` raises; ``original_error`` is what it raised."""


class PostRunError(ProcessError):
    """Raised when ``__postrun__`` raises; ``original_error`` is what it raised."""


class OnFinishError(ProcessError):
    """Raised when ``__onfinish__`` raises; ``original_error`` is what it raised."""


class ResultError(ProcessError):
    """Raised when ``__result__`` raises, or when its value cannot be serialized."""


class ErrorHandlerError(ProcessError):
    """Raised when ``__error__`` itself raises; ``original_error`` is what it raised.

    The error ``__error__`` was handling is named in a note on this error.
    """


class ProcessTimeoutError(ProcessError, TimeoutError):
    """Raised when a lifecycle section runs longer than its ``process_config.timeouts``.

    ``section`` is the section's short name (``"prerun"``, ``"run"``, ``"postrun"``,
    ``"onfinish"``, ``"result"`` or ``"error"``), ``timeout`` the limit in seconds and
    ``current_run`` the run it happened on. It is also a builtin ``TimeoutError``.

    Example::

        >>> from suitkaise.processing import ProcessTimeoutError
        >>> e = ProcessTimeoutError("Timeout in run after 5.0s on run 3",
        ...                         section="run", timeout=5.0, current_run=3)
        >>> e.section, e.timeout, e.run
        ('run', 5.0, 3)
    """

    def __init__(
        self,
        message: str = "",
        *,
        section: str = "",
        timeout: float | None = None,
        current_run: int | None = None,
        original_error: BaseException | None = None,
    ) -> None:
        super().__init__(message, original_error=original_error, current_run=current_run)
        #: The section that timed out, e.g. ``"run"``.
        self.section = section
        #: The time limit that was exceeded, in seconds.
        self.timeout = timeout

    @property
    def run(self) -> int | None:
        """The run the timeout happened on (the same as ``current_run``)."""
        return self.current_run


class ResultTimeoutError(ProcessError, TimeoutError):
    """Raised by ``p.result.timeout(seconds)()`` when no result comes within *seconds*.

    The process goes on running; ``timeout`` is the limit that was exceeded. It is
    also a builtin ``TimeoutError``.
    """

    def __init__(self, message: str = "", *, timeout: float | None = None) -> None:
        super().__init__(message)
        #: The time limit that was exceeded, in seconds.
        self.timeout = timeout


class RemoteTraceback(Exception):
    """The child's traceback, shown as the ``__cause__`` of an error from a process."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


#: The error class for a failure in each lifecycle section.
SECTION_ERRORS: dict[str, type[ProcessError]] = {
    "__prerun__": PreRunError,
    "__run__": RunError,
    "__postrun__": PostRunError,
    "__onfinish__": OnFinishError,
    "__result__": ResultError,
    "__error__": ErrorHandlerError,
}
