"""The child side: load the process, run its lifecycle, report back.

::

    parent                                         child (child_main)
    ------                                         ------------------
    payload (cerial; fork: ForkPayload) - args --> load the instance
    status array     <====== shared memory ======> stop flag in; run/section/deadline out
    tell/listen socket pair <==== both ways =====> listen() / tell()  (user data only)
    report pipe (read) <-------------------------- one report: kind, state, value, error
    lifeline pipe (write end, never written) ----> EOF => the parent is gone => we die

Nothing that can be left for later runs before the first ``__run__``: in a newly
forked child every object made or touched costs a page copy. The Sender and Receiver
of tell/listen are made on first use, lifecycle methods are looked up when first
called, and the lifeline needs one ``fcntl`` call (on Linux).

Lifecycle (one run = __prerun__, __run__, __postrun__)::

    snapshot = state            (only when lives > 1)
    while not stopping:
        run n = completed + 1
        prerun/run/postrun      fails -> lives left? restore snapshot, retry run n
                                        : error, leave the loop
        snapshot = state        (only when lives > 1)
    __onfinish__                also after an error (cleanup)
    __result__ or __error__     the report: ("ok", value) / ("handled", value) / ("error", e)

Timeouts: a section with a time limit arms ``SIGALRM`` (POSIX, main thread), whose
handler raises :class:`_SectionTimeout` into the section, which interrupts sleeps and
blocking waits. A section that still overruns (the signal cannot reach code that holds
the GIL in C, or the platform has no SIGALRM) is caught when it returns, and the
parent kills a child that stays past its deadline plus a grace period (the deadline is
published in the status array).

No orphans: the child dies as soon as the parent's end of the lifeline closes, which
the kernel does when the parent dies in any way. On Linux the kernel also does the
killing, with no thread of ours, even while user code holds the GIL: the parent arms
the child's end of the lifeline (``O_ASYNC``, ``F_SETSIG`` = ``SIGKILL``, and once the
child exists ``F_SETOWN`` = the child), so that its EOF sends the child SIGKILL. The
child only checks that it owns its lifeline; if the parent has not got that far (or
died first), the child takes it and looks for EOF itself. Elsewhere a daemon thread
blocks on the lifeline and calls ``os._exit`` at EOF. No other process keeps a copy of
the lifeline's write end open: forked children close every one they inherit (see
``_forkclose``), and the pipes are closed on exec.
"""

from __future__ import annotations

import functools
import inspect
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from .. import cerial
from ._autoreconnect import reconnect_hook
from ._channel import CLOSED, Receiver, Sender
from ._context import mark_fork_safe
from ._errors import SECTION_ERRORS, ProcessError, ProcessTimeoutError
from ._lifecycle import (
    INTERNALS,
    LIFECYCLE,
    RUN_SECTIONS,
    BoundLifecycle,
    ForkPayload,
    LifecycleMethod,
    internals,
    load_fork_payload,
    reclaim,
)

__all__ = (
    "DEADLINE",
    "EXIT_ORPHANED",
    "RUN",
    "SECTION",
    "STARTED",
    "STATUS_SIZE",
    "STOP",
    "TIMEOUT",
    "ChildSide",
    "arm_lifeline",
    "child_main",
    "give_lifeline",
    "prepare_fork",
)

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


_signal: Any = sys.modules.get("_signal")  # the C module under signal (see _ignore_sigint)


def _ignore_sigint() -> None:
    """Ignore Ctrl-C: it is for the parent, which ends us.

    Through the C module when there is one: ``signal.signal`` turns the old handler
    into an enum (raising and catching a ValueError when it is a function), which
    costs ~0.1 ms in a newly forked child, where all that code is still cold.
    """
    if _signal is not None:
        _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
    else:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


# Slots of the shared status array (doubles).
STOP = 0  # parent or child -> child: 1.0 once a stop was asked for
STARTED = 1  # child: 1.0 once child_main runs
RUN = 2  # child: the current run number (0 before the first)
SECTION = 3  # child: 1 + index in LIFECYCLE of the running section, 0 between sections
DEADLINE = 4  # child: time.monotonic() deadline of the running section, 0.0 for none
TIMEOUT = 5  # child: the running section's time limit
STATUS_SIZE = 6

#: Exit status of a child whose parent died (nobody reads it; it marks the cause).
EXIT_ORPHANED = 78

_SHORT = {name: name.strip("_") for name in LIFECYCLE}
_NO_LIMITS: dict[str, float | None] = dict.fromkeys(LIFECYCLE)  # (shared: never changed)
_SECTION_NUMBER = {name: number for number, name in enumerate(LIFECYCLE, 1)}
_RUN_SECTION = _SECTION_NUMBER["__run__"]


class _SectionTimeout(BaseException):
    """Raised into a section by SIGALRM; a BaseException so ``except Exception`` lets it by."""


class _Failure(Exception):
    """A section failed: carries the ProcessError to report and the child's traceback text."""

    def __init__(self, error: ProcessError, tb: str | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.tb = tb


class _Alarm:
    """Raises :class:`_SectionTimeout` in the main thread when a section's time is up."""

    def __init__(self) -> None:
        self.armed = False
        self.usable = (
            hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        )
        if self.usable:
            signal.signal(signal.SIGALRM, self._fire)

    def _fire(self, signum: int, frame: Any) -> None:
        if self.armed:
            self.armed = False
            raise _SectionTimeout

    def arm(self, seconds: float) -> None:
        if self.usable:
            self.armed = True
            signal.setitimer(signal.ITIMER_REAL, seconds)

    def disarm(self) -> None:
        if self.usable:
            self.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)


class ChildSide:
    """``tell``/``listen``/``stop`` as seen from inside the running process."""

    def __init__(self, out: Any, inbox: Connection, status: Any, label: str) -> None:
        # Sender and Receiver are made by the first tell() and listen(), not before
        # the first __run__ begins (see the module docstring).
        self.out = out
        self.inbox = inbox
        self.status = status
        self.label = label
        self.sender: Sender | None = None
        self.receiver: Receiver | None = None
        self._send_lock = threading.Lock()  # (not the other: a listen() holds it while waiting)
        self._recv_lock = threading.Lock()

    def tell(self, obj: Any) -> None:
        """The first tell: makes the Sender, whose ``send`` then replaces this method
        on the instance (one call less for every later tell)."""
        with self._send_lock:  # two first tells at once make one sender
            if self.sender is None:
                self.sender = Sender(self.out, self.label)
                self.tell = self.sender.send  # type: ignore[method-assign]
        self.sender.send(obj)

    def listen(self, timeout: float | None) -> Any:
        with self._recv_lock:
            receiver = self.receiver
            if receiver is None:
                receiver = self.receiver = Receiver(self.inbox)
            try:
                if timeout is not None and not receiver.readable(timeout):
                    return None
            except (EOFError, OSError):
                return None
            # (Decoded under the lock: the next read may reuse its buffer.)
            value = receiver.get()
            return None if value is CLOSED else value

    def stop(self) -> None:
        self.status[STOP] = 1.0


# ------------------------------------------------------------------------ the lifecycle


def _where(name: str, run: int) -> str:
    if name in RUN_SECTIONS:
        return f"on run {run}"
    return f"after run {run}" if run else "before any run"


def _child_traceback(exc: BaseException) -> str:
    # Skip our own frame (the one that called the lifecycle method).
    tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
    return "".join(traceback.TracebackException(type(exc), exc, tb).format())


class Lifecycle:
    """Runs one process's lifecycle in the child and returns its report."""

    def __init__(self, proc: Any, child: Any) -> None:
        self.proc = proc
        self.child = child
        self.inner = internals(proc)
        self.config = self.inner.config
        self.status = child.status
        # Little is done here, all of it cheap: in a newly forked child every object
        # made or touched costs a page copy, and this runs before the first __run__
        # (under fork, it runs in the parent: see prepare_fork).
        self._methods: dict[str, Any] = {}
        # The config is closed in the child (it only changes in __init__): read it once.
        settings = self.config.values()
        self.runs, self.join_in = settings["runs"], settings["join_in"]
        self.lives = settings["lives"]
        limits = settings["timeouts"].values()
        self.limits = _NO_LIMITS
        for limit in limits.values():
            if limit is not None:
                self.limits = {name: limits[_SHORT[name]] for name in LIFECYCLE}
                break
        self._alarm: _Alarm | None = None  # made by the first section with a time limit
        self.run_number = 0
        self.reconnect = reconnect_hook(proc)  # None unless the class has @autoreconnect

    @property
    def alarm(self) -> _Alarm:
        """The SIGALRM timer (installs its handler: made in the child, when first needed)."""
        if self._alarm is None:
            self._alarm = _Alarm()
        return self._alarm

    def method(self, name: str) -> Any:
        """The callable for lifecycle method *name*, or None (looked up once)."""
        methods = self._methods
        if name in methods:
            return methods[name]
        found = methods[name] = _plain_callable(self.proc, name)
        return found

    # A section: call it under its time limit, time it, and wrap what it raises. Its
    # time goes to its timer at once, or (record=False, the sections of a run) by the
    # caller once the whole run has succeeded.
    def _call(self, name: str, *args: Any, record: bool = True) -> tuple[Any, float]:
        fn = self.method(name)
        limit = self.limits[name]
        status = self.status
        status[SECTION] = _SECTION_NUMBER[name]
        if limit is not None:
            status[TIMEOUT] = limit
            status[DEADLINE] = time.monotonic() + limit
            self.alarm.arm(limit)
        start = time.perf_counter()
        try:
            try:
                value = fn(*args)
            finally:
                if limit is not None:
                    self.alarm.disarm()
        except _SectionTimeout:
            raise _Failure(self._timeout(name, limit), None) from None
        except BaseException as exc:
            raise self._failure(name, exc) from None
        finally:
            status[DEADLINE] = 0.0
            status[SECTION] = 0
        elapsed = time.perf_counter() - start
        if limit is not None and elapsed > limit:
            raise _Failure(self._timeout(name, limit), None)
        if record:
            self.inner.timer(name).add_time(elapsed)
        return value, elapsed

    def _timeout(self, name: str, limit: float | None) -> ProcessTimeoutError:
        short, run = _SHORT[name], self.run_number
        if name in RUN_SECTIONS:
            message = f"Timeout in {short} after {limit}s on run {run}"
        else:
            message = f"Timeout in {short} after {limit}s ({_where(name, run)})"
        return ProcessTimeoutError(message, section=short, timeout=limit, current_run=run)

    def _failure(self, name: str, exc: BaseException, detail: str = "") -> _Failure:
        cls = SECTION_ERRORS[name]
        message = f"Error in {name} {_where(name, self.run_number)}{detail}"
        error = cls(message, original_error=exc, current_run=self.run_number)
        return _Failure(error, _child_traceback(exc))

    def _snapshot(self) -> bytes:
        # The user's attributes only: not the class (perhaps sent by value), and not
        # the timers, which only ever record runs that succeeded.
        state = dict(self.proc.__dict__)
        del state[INTERNALS]
        return cerial.serialize(state)

    def _restore(self, snapshot: bytes) -> None:
        inner = self.inner
        timers, process_timer = inner.timers, inner.process_timer
        token = reclaim.set((inner.token, self.proc))
        try:
            state = cerial.deserialize(snapshot)
        finally:
            reclaim.reset(token)
        # (A self-reference in the state reloads the instance's portable part; undo that.)
        inner.timers, inner.process_timer = timers, process_timer
        attributes = self.proc.__dict__
        attributes.clear()
        attributes.update(state)
        attributes[INTERNALS] = inner

    def run(self) -> tuple[str, bytes | None, ProcessError | None, str | None]:
        """Run everything; return ``(kind, value bytes, error, child traceback)``."""
        failure = self._runs()
        if self.method("__onfinish__") is not None:
            try:
                self._call("__onfinish__")
            except _Failure as f:
                if failure is None:
                    failure = f
                else:
                    failure.error.add_note(f"__onfinish__ also failed: {f.error.original_error!r}")
        if failure is None:
            try:
                return "ok", self._result(), None, None
            except _Failure as f:
                failure = f
        return self._handle_error(failure)

    def _runs(self) -> _Failure | None:
        lives = self.lives
        snapshot = self._snapshot() if lives > 1 else None
        completed = 0
        started = time.monotonic()
        prerun, postrun = self.method("__prerun__"), self.method("__postrun__")
        # The usual run, __run__ alone and without a time limit, is called here rather
        # than through _call (this loop is on the path of every tell/listen round trip).
        only_run = None
        if prerun is None and postrun is None and self.limits["__run__"] is None:
            only_run = self.method("__run__")
        inner = self.inner
        status = self.status
        runs, join_in = self.runs, self.join_in
        clock = time.perf_counter
        run_timer = None  # (made after the first run; a retry keeps the same timer objects)
        reconnect = self.reconnect is not None  # @autoreconnect: before run 1, after a restore
        while not (
            status[STOP]
            or (runs is not None and completed >= runs)
            or (join_in is not None and time.monotonic() - started >= join_in)
        ):
            self.run_number = completed + 1
            status[RUN] = self.run_number
            pre = post = None
            try:
                if reconnect:
                    self._reconnect()
                    reconnect = False
                if only_run is not None:
                    status[SECTION] = _RUN_SECTION
                    start = clock()
                    try:
                        only_run()
                    except BaseException as exc:
                        raise self._failure("__run__", exc) from None
                    finally:
                        status[SECTION] = 0
                    run = clock() - start
                else:
                    if prerun is not None:
                        pre = self._call("__prerun__", record=False)[1]
                    run = self._call("__run__", record=False)[1]
                    if postrun is not None:
                        post = self._call("__postrun__", record=False)[1]
            except _Failure as f:
                lives -= 1
                if lives <= 0:
                    return f
                self._restore(snapshot)  # type: ignore[arg-type]
                reconnect = self.reconnect is not None  # the snapshot holds placeholders
                continue
            if pre is not None:
                inner.timer("__prerun__").add_time(pre)
            if run_timer is None:
                run_timer = inner.timer("__run__")
            run_timer.add_time(run)
            if post is not None:
                inner.timer("__postrun__").add_time(post)
                inner.process_timer.add_time((pre or 0.0) + run + post)
            elif pre is not None:
                inner.process_timer.add_time(pre + run)
            else:
                inner.process_timer.add_time(run)
            completed += 1
            if snapshot is not None:
                snapshot = self._snapshot()
        return None

    def _reconnect(self) -> None:
        try:
            self.reconnect()  # type: ignore[misc]
        except Exception as exc:
            raise self._failure("__prerun__", exc, f": @autoreconnect failed: {exc}") from None

    def _result(self) -> bytes | None:
        if self.method("__result__") is None:
            return None
        value, _ = self._call("__result__")
        try:
            return cerial.serialize(value)
        except Exception as exc:
            detail = ": its return value could not be serialized"
            raise self._failure("__result__", exc, detail) from None

    def _handle_error(
        self, failure: _Failure
    ) -> tuple[str, bytes | None, ProcessError | None, str | None]:
        handler = self.method("__error__")
        if handler is None:
            return "error", None, failure.error, failure.tb
        args = (failure.error,) if _takes_argument(handler) else ()
        try:
            value, _ = self._call("__error__", *args)
            return "handled", cerial.serialize(value), failure.error, failure.tb
        except _Failure as f:
            handled = f"{type(failure.error).__name__}: {failure.error}"
            f.error.add_note(f"__error__ was handling: {handled}")
            return "error", None, f.error, f.tb
        except Exception as exc:
            failed = self._failure("__error__", exc, ": its return value could not be serialized")
            return "error", None, failed.error, failed.tb


def _plain_callable(proc: Any, name: str) -> Any:
    """The method to call for *name*, or None; a lifecycle method loses its wrapper so
    that the child's traceback starts in the user's own code."""
    if name not in proc.__dict__:  # the usual case: straight from the class, no binding
        found = getattr(type(proc), name, None)
        if isinstance(found, LifecycleMethod):
            return functools.partial(found.func, proc)
        if found is None:
            return None
    method = getattr(proc, name, None)
    if isinstance(method, BoundLifecycle):
        return functools.partial(method.__func__, proc)
    return method


def _takes_argument(fn: Any) -> bool:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                  inspect.Parameter.VAR_POSITIONAL)
    return any(p.kind in positional for p in params)


# -------------------------------------------------------------------------- the child


#: This process's end of its lifeline (kept open for as long as the process lives).
_lifeline: Connection | None = None


def arm_lifeline(lifeline: Connection) -> bool:
    """Parent, before the start: have EOF on *lifeline* (the child's end, a pipe) send
    SIGKILL to the pipe end's owner. False where the kernel cannot (not Linux).

    ``O_ASYNC`` signals the owner of a pipe end when its last writer closes (and on data,
    which never comes: nobody writes to a lifeline); ``F_SETSIG`` makes that signal
    SIGKILL. These settings belong to the open pipe end, which the child shares (fork,
    inherited descriptor, or one passed over a socket).
    """
    if fcntl is None or not hasattr(fcntl, "F_SETSIG") or not hasattr(os, "O_ASYNC"):
        return False
    fd = lifeline.fileno()
    try:
        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGKILL)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_ASYNC)
    except OSError:
        return False
    return True


def give_lifeline(lifeline: Connection, pid: int) -> None:
    """Parent, once the child *pid* exists: make it the owner of the armed *lifeline*."""
    try:
        fcntl.fcntl(lifeline.fileno(), fcntl.F_SETOWN, pid)
    except OSError:
        pass  # the child sees that it does not own its lifeline, and takes it


def _hold_lifeline(lifeline: Connection, armed: bool) -> None:
    """Die as soon as the write end of *lifeline*, which only the parent holds, closes."""
    global _lifeline
    _lifeline = lifeline
    if armed:  # (by arm_lifeline in the parent)
        fd, pid = lifeline.fileno(), os.getpid()
        if fcntl.fcntl(fd, fcntl.F_GETOWN) != pid:  # the parent has not got to it (yet)
            fcntl.fcntl(fd, fcntl.F_SETOWN, pid)
            if select.select([fd], [], [], 0)[0]:  # the parent died before we owned it: EOF
                os._exit(EXIT_ORPHANED)
        return

    def watch() -> None:
        try:
            lifeline.recv_bytes()  # the parent never writes: this returns at EOF only
        except (EOFError, OSError):
            pass
        os._exit(EXIT_ORPHANED)

    mark_fork_safe(threading.Thread(target=watch, name="suitkaise-lifeline", daemon=True)).start()


def _ready_lifecycle(proc: Any, child: ChildSide) -> Lifecycle:
    internals(proc).child = child
    return Lifecycle(proc, child)


def prepare_fork(payload: ForkPayload, status: Any, tell: Any, listen: Connection) -> None:
    """Fork start method, in the parent before the fork: make what the child needs
    before its first ``__run__`` (its ChildSide and Lifecycle, with the run's methods
    looked up) when the instance is already made and nothing is left to deserialize.

    The child gets copies of these objects with the fork: it only has to call
    ``run()``, rather than make them in a new process, where making or touching an
    object costs a page copy. (Nothing here installs a handler or starts anything:
    the alarm of timed sections is made in the child.)
    """
    proc = payload.instance
    if proc is None or payload.data is not None:
        return
    lifecycle = _ready_lifecycle(proc, ChildSide(tell, listen, status, type(proc).__qualname__))
    for name in RUN_SECTIONS:
        if _plain_lookup(proc, name):
            lifecycle.method(name)
    payload.lifecycle = lifecycle


def _plain_lookup(proc: Any, name: str) -> bool:
    """True if looking up lifecycle method *name* runs none of the user's code (it is a
    wrapped method of the class, or missing), so that it may be done in the parent."""
    if name in proc.__dict__:
        return False
    for klass in type(proc).__mro__:
        if name in klass.__dict__:
            return isinstance(klass.__dict__[name], LifecycleMethod)
    return True


def _encode_report(kind: str, state: bytes | None, value: bytes | None,
                   error: ProcessError | None, tb: str | None) -> bytes:
    try:
        return cerial.serialize((kind, state, value, error, tb))
    except Exception as exc:
        if error is None:
            raise
        original = error.original_error
        error.original_error = RuntimeError(f"{type(original).__name__}: {original}")
        error.add_note(f"the original error could not be serialized ({type(exc).__name__}: {exc})")
        return cerial.serialize((kind, state, value, error, tb))


def child_main(
    payload: bytes | ForkPayload,
    report: Connection,
    tell: Any,
    listen: Connection,
    lifeline: Connection,
    armed: bool,
    status: Any,
) -> None:
    """The target of every process's child: run the instance in *payload*, report once."""
    _ignore_sigint()
    _hold_lifeline(lifeline, armed)
    status[STARTED] = 1.0
    child = None
    lifecycle = None
    try:
        try:
            if isinstance(payload, ForkPayload):
                lifecycle = payload.lifecycle
                proc = load_fork_payload(payload)
            else:
                proc = cerial.deserialize(payload)
        except BaseException as exc:
            load_error = ProcessError(
                "the process could not be loaded in its child process: "
                f"{type(exc).__name__}: {exc}",
                original_error=exc,
                current_run=0,
            )
            trace = _child_traceback(exc)
            report.send_bytes(_encode_report("error", None, None, load_error, trace))
            return
        if lifecycle is None:
            if isinstance(tell, socket.socket):
                # Rebuilt here (spawn, forkserver), a socket takes socket.setdefaulttimeout()
                # and turns non-blocking, the reading end too (one open file): undo that.
                tell.setblocking(True)
            child_side = ChildSide(tell, listen, status, type(proc).__qualname__)
            lifecycle = _ready_lifecycle(proc, child_side)
        child = lifecycle.child
        kind, value, error, tb = lifecycle.run()
        if child.sender is not None:
            child.sender.flush()
        try:
            state: bytes | None = cerial.serialize(proc)
        except Exception as exc:
            kind, state, value = "error", None, None
            error = ProcessError(
                f"the final state of {type(proc).__qualname__} could not be sent back to the "
                f"parent: {type(exc).__name__}: {exc}",
                original_error=exc,
                current_run=int(status[RUN]),
            )
            tb = _child_traceback(exc)
        report.send_bytes(_encode_report(kind, state, value, error, tb))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone; the lifeline ends us
    finally:
        from ._handle import end_children

        end_children()  # processes this process started do not outlive it
        # The lifecycle is over: leave now, rather than joining threads the user's code
        # may have left running (the parent waits for this process to exit).
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        os._exit(0)
