"""Error handling from the processing guide, runnable.

Every error a process reports is a ``ProcessError``: one subclass per lifecycle
method (``PreRunError``, ``RunError``, ...), ``ProcessTimeoutError`` for a section
that ran out of time, and ``ProcessError`` itself for anything outside the lifecycle
methods (here: the process dies). Each wraps the original error
(``e.original_error``) and knows the run it happened on (``e.current_run``); the
child's traceback is chained as the cause.

Run it with ``python examples/skprocess_errors.py``.
"""

from __future__ import annotations

import os
import time
import traceback

from suitkaise.processing import (
    ErrorHandlerError,
    OnFinishError,
    PostRunError,
    PreRunError,
    ProcessError,
    ProcessTimeoutError,
    ResultError,
    RunError,
    Skprocess,
)


def fetch_from_api():
    raise ConnectionError("Failed to connect to server")


class MyProcess(Skprocess):
    """Fetches once per run; the server goes away on run 5."""

    def __init__(self):
        self.process_config.runs = 10
        self.fetched = 0

    def __run__(self):
        if self.fetched == 4:
            data = fetch_from_api()  # noqa: F841  (as in the guide)
        self.fetched += 1

    def __result__(self):
        return self.fetched


class FailsIn(Skprocess):
    """Raises ValueError in the lifecycle method named ``where``."""

    def __init__(self, where):
        self.where = where
        self.process_config.runs = 2

    def _maybe_fail(self, name):
        if name == self.where:
            raise ValueError(f"boom in {name}")

    def __prerun__(self):
        self._maybe_fail("__prerun__")

    def __run__(self):
        self._maybe_fail("__run__")

    def __postrun__(self):
        self._maybe_fail("__postrun__")

    def __onfinish__(self):
        self._maybe_fail("__onfinish__")

    def __result__(self):
        self._maybe_fail("__result__")


class BadHandler(FailsIn):
    def __error__(self):
        raise RuntimeError("the error handler failed too")


class SlowRun(Skprocess):
    def __init__(self):
        self.process_config.runs = 5
        self.process_config.timeouts.run = 0.5
        self.count = 0

    def __run__(self):
        self.count += 1
        time.sleep(5.0 if self.count == 3 else 0.01)


class Dies(Skprocess):
    def __init__(self):
        self.process_config.runs = 1

    def __run__(self):
        os._exit(3)


if __name__ == "__main__":
    # one error class per lifecycle method
    for process in (
        FailsIn("__prerun__"),
        FailsIn("__run__"),
        FailsIn("__postrun__"),
        FailsIn("__onfinish__"),
        FailsIn("__result__"),
        BadHandler("__run__"),
    ):
        try:
            process.run()
        except ProcessError as e:
            print(f"{type(e).__name__}: {e} | original: {e.original_error!r}")

    # a lifecycle timeout
    try:
        SlowRun().run()
    except ProcessTimeoutError as e:
        print(
            f"{type(e).__name__}: {e} | section={e.section} timeout={e.timeout} run={e.current_run}"
        )

    # an error outside the lifecycle methods: the process dies
    try:
        Dies().run()
    except ProcessError as e:
        print(f"{type(e).__name__}: {str(e).split(' (os._exit')[0]}")

    print(
        "all are ProcessErrors:",
        all(
            issubclass(cls, ProcessError)
            for cls in (
                PreRunError,
                RunError,
                PostRunError,
                OnFinishError,
                ResultError,
                ErrorHandlerError,
                ProcessTimeoutError,
            )
        ),
    )

    # Accessing the Original Error
    p = MyProcess()
    p.start()

    try:
        result = p.result()
    except ProcessError as e:
        print(f"Process error: {e}")
        print(f"Original error: {e.original_error}")
        print(f"Run number: {e.current_run}")

        # the traceback: the RunError, caused by the child's own traceback
        print("".join(traceback.format_exception(e)).rstrip())
