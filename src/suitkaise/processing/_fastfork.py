"""A quicker child set-up for the processes we fork ourselves (Skprocess, pool workers).

A child forked by ``multiprocessing`` runs ``BaseProcess._bootstrap`` before its target.
In a new child most of what that costs is first touches: every page of the parent's
memory the child writes to, a reference count included, is copied first (about
2.4 µs a page on a VM). The bootstrap also opens a new ``os.devnull`` reader for
``sys.stdin`` (the io objects and the codec lookup, about 0.1 ms).

:class:`ForkProcess` makes the same state in the child with less code: the
``sys.stdin`` replacement is a reader opened once in the parent (each child gets its
own copy of it), and the steps run straight through. About 0.14 ms less from
``start()`` to the target (of 1.1-1.5 ms in all). Where the ``multiprocessing``
internals it sets are missing (another Python version), :func:`process_class` gives
the context's own class.

What the child gets, as with ``multiprocessing``: the context's start method as its
default, ``current_process()`` and ``parent_process()``, no children and a new
process counter, ``sys.stdin`` reading from ``os.devnull``, the parent's finalizers
dropped and the ``register_after_fork`` callbacks run; at the end, the exit code of
``SystemExit``, a traceback and status 1 for another exception, the exit handlers of
``multiprocessing`` and the wait for non-daemon threads.
"""

from __future__ import annotations

import itertools
import multiprocessing.context
import multiprocessing.process
import multiprocessing.util
import os
import sys
import threading
from typing import Any, TextIO

__all__ = ("ForkProcess", "process_class")

_mp_process: Any = multiprocessing.process
_mp_util: Any = multiprocessing.util
_mp_context: Any = multiprocessing.context
_threading: Any = threading

# The fork Popen of Python 3.13+ runs multiprocessing's exit function through atexit
# (after the child's non-daemon threads and its own atexit handlers); before, the
# bootstrap called it right after run().
_popen_fork: Any
try:
    import multiprocessing.popen_fork as _popen_fork
except ImportError:  # pragma: no cover - no fork here: ForkProcess is never used
    _popen_fork = None
_EXIT_IN_BOOTSTRAP = not hasattr(_popen_fork, "atexit")

_AVAILABLE = (
    all(hasattr(_mp_process, name) for name in (
        "_current_process", "_parent_process", "_process_counter", "_children",
        "_ParentProcess"))
    and all(hasattr(_mp_util, name) for name in (
        "_finalizer_registry", "_run_after_forkers", "_exit_function", "_flush_std_streams"))
    and hasattr(_mp_context, "_force_start_method")
    and hasattr(_mp_context, "ForkProcess")
    and hasattr(_threading, "_shutdown")
)

_stdin: TextIO | None = None  # the children's sys.stdin, opened once in the parent
_devnull = -1  # its descriptor


def process_class(ctx: Any) -> Any:
    """The Process class for *ctx*: :class:`ForkProcess` under fork where it can run,
    else ``ctx.Process``."""
    global _stdin, _devnull
    if not _AVAILABLE or ctx.get_start_method() != "fork":
        return ctx.Process
    if _stdin is None:
        try:
            _devnull = os.open(os.devnull, os.O_RDONLY)
        except OSError:
            return ctx.Process
        _stdin = open(_devnull, encoding="utf-8", closefd=False)  # noqa: SIM115 - kept for good
    return ForkProcess


class ForkProcess(getattr(_mp_context, "ForkProcess", _mp_process.BaseProcess)):  # type: ignore[misc]
    """``multiprocessing``'s fork Process, with the quicker child set-up above. (Where
    there is no fork, as on Windows, :func:`process_class` never gives it.)"""

    def _bootstrap(self, parent_sentinel: int | None = None) -> int:
        try:
            _set_up_child(self, parent_sentinel)
            try:
                self.run()
                code = 0
            finally:
                if _EXIT_IN_BOOTSTRAP:
                    _mp_util._exit_function()
        except SystemExit as exc:
            code = _exit_code(exc)
        except BaseException:
            import traceback

            sys.stderr.write(f"Process {self.name}:\n")
            traceback.print_exc()
            code = 1
        finally:
            _threading._shutdown()
            _mp_util._flush_std_streams()
        return code


def _set_up_child(proc: ForkProcess, parent_sentinel: int | None) -> None:
    global _stdin
    _mp_context._force_start_method("fork")
    _mp_process._process_counter = itertools.count(1)
    _mp_process._children = set()
    stdin = sys.stdin
    if stdin is not None:
        if stdin is not _stdin:
            try:
                stdin.close()
            except (OSError, ValueError):
                pass
        if _stdin is None or _stdin.closed:  # (closed by the code of a process we fork from)
            _stdin = open(_devnull, encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stdin = _stdin
    # (the parent's process object is let go once the after-fork callbacks have run)
    parents = _mp_process._current_process
    _mp_process._current_process = proc
    _mp_process._parent_process = _mp_process._ParentProcess(
        proc._parent_name, proc._parent_pid, parent_sentinel)
    set_native_id = getattr(threading.main_thread(), "_set_native_id", None)
    if set_native_id is not None:
        set_native_id()
    _mp_util._finalizer_registry.clear()
    _mp_util._run_after_forkers()
    del parents


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    sys.stderr.write(f"{exc.code}\n")
    return 1
