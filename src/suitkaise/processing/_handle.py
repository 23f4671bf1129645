"""The parent side of one running process: start it, watch it, collect what it sends.

::

    ParentHandle
      process.sentinel  --readable when the child is gone-----------+
      report pipe       --the one report (kind, state, value, error)-+--> pump() --> outcome
      tell pipe         --tell() messages from the child-------------+        \\--> inbox
      status RawArray   --run / section / deadline, read by the watchdog

No background thread: whichever thread calls ``wait()``, ``result()`` or ``listen()``
pumps (one at a time; the others wait on a condition and look at what the pumper
found). Waiting on the sentinel together with the pipes means a child that dies
without a word (SIGKILL, ``os._exit``, a segfault) is noticed at once. Reading the
pipes while waiting means a child is never stuck writing a large report or a burst
of ``tell()`` messages. The watchdog is part of the pump: with timeouts configured,
the pump wakes every ``WATCHDOG_POLL`` seconds and kills a child that is more than
``WATCHDOG_GRACE`` seconds past the deadline of its running section.

No orphans: the child watches a "lifeline" pipe whose write end only the parent
holds (EOF: the parent is gone, exit at once; on Linux the kernel also sends SIGKILL
when the parent dies), and ``atexit`` kills every child still running. Forked children
close the parent's ends of every pipe, so one child never keeps another's lifeline open.
"""

from __future__ import annotations

import atexit
import multiprocessing.util
import os
import signal
import sys
import threading
import time
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Any

from .. import cerial
from ._channel import Sender
from ._context import MISSING_MAIN_GUARD, MISSING_MAIN_GUARD_EXIT
from ._errors import ProcessError, ProcessTimeoutError, RemoteTraceback
from ._lifecycle import LIFECYCLE, RUN_SECTIONS, reclaim
from ._runner import DEADLINE, RUN, SECTION, STARTED, STATUS_SIZE, STOP, TIMEOUT, child_main

__all__ = ("WATCHDOG_GRACE", "WATCHDOG_POLL", "ParentHandle", "end_children", "reap_ended")

#: Seconds a child may stay past a section's deadline before the parent kills it.
WATCHDOG_GRACE = 1.0
#: How often (seconds) a waiting parent checks the deadline of a child with timeouts.
WATCHDOG_POLL = 0.05


class ParentHandle:
    """Starts one child for *proc* and tracks it until its outcome is known."""

    def __init__(self, proc: Any, ctx: Any, payload: bytes, watch_deadlines: bool) -> None:
        self.proc = proc
        self.label = type(proc).__qualname__
        self.method = ctx.get_start_method()
        self.watch_deadlines = watch_deadlines
        self.status = ctx.RawArray("d", STATUS_SIZE)
        report_r, report_w = ctx.Pipe(duplex=False)
        tell_parent, tell_child = ctx.Pipe(duplex=True)
        lifeline_r, lifeline_w = ctx.Pipe(duplex=False)
        self._report_conn: Connection | None = report_r
        self._tell_conn: Connection | None = tell_parent
        self._lifeline: Connection | None = lifeline_w
        for conn in (report_r, tell_parent, lifeline_w):
            multiprocessing.util.register_after_fork(conn, Connection.close)
        main_thread = threading.current_thread() is threading.main_thread()
        die_with_parent = self.method == "forkserver" or main_thread
        parent_pid = 0 if self.method == "forkserver" else os.getpid()
        self.process = ctx.Process(
            target=child_main,
            args=(payload, report_w, tell_child, lifeline_r, self.status, parent_pid, die_with_parent),
            name=f"Skprocess:{self.label}",
            daemon=False,
        )
        try:
            self.process.start()
        except BaseException as exc:
            for conn in (report_r, report_w, tell_parent, tell_child, lifeline_r, lifeline_w):
                conn.close()
            if isinstance(exc, (OSError, EOFError)):
                hint = "" if self.method == "fork" else (
                    f" (if the forkserver or a spawned child failed while importing the main "
                    f"module: {MISSING_MAIN_GUARD})"
                )
                raise ProcessError(
                    f"{self.label} could not be started with the {self.method!r} start method: "
                    f"{type(exc).__name__}: {exc}{hint}",
                    current_run=0,
                ) from exc
            raise
        finally:
            del payload
        for conn in (report_w, tell_child, lifeline_r):
            conn.close()
        self.pid = self.process.pid
        self.sentinel = self.process.sentinel
        self.sender = Sender(tell_parent, self.label)

        self._cond = threading.Condition()
        self._pumping = False
        self._inbox: deque[bytes] = deque()
        self._report: bytes | None = None
        self._sentinel_ready = False
        self._killed = False
        self._abnormal: ProcessError | None = None  # died without a report, or watchdog
        #: True once the child has exited and its outcome is settled.
        self.done = False
        self.exitcode: int | None = None
        self.value: Any = None
        self.error: ProcessError | None = None
        _register(self)

    # ------------------------------------------------------------------ control

    def stop(self) -> None:
        if not self.done:
            self.status[STOP] = 1.0

    def kill(self) -> None:
        with self._cond:
            if self.done or self._report is not None:
                return
            self._killed = True
        try:
            self.process.kill()
        except (OSError, ValueError, AttributeError):
            pass

    def tell(self, obj: Any) -> None:
        if not self.done:
            self.sender.send(obj)
        else:
            cerial.serialize(obj)  # same errors as a live tell, then nothing to deliver

    # ------------------------------------------------------------------ waiting

    def wait(self, timeout: float | None) -> bool:
        finished = self._await(lambda: self.done, timeout)
        if finished and self._abnormal is not None:
            raise self._abnormal.with_traceback(None)
        return finished

    def listen(self, timeout: float | None) -> Any:
        self._await(lambda: bool(self._inbox) or self._tell_conn is None or self.done, timeout)
        with self._cond:
            data = self._inbox.popleft() if self._inbox else None
        return None if data is None else cerial.deserialize(data)

    def settle_if_idle(self) -> None:
        """Take in the outcome of an ended child, unless another thread is on it."""
        with self._cond:
            if self._pumping or self.done:
                return
            self._pumping = True
        try:
            self._pump(0)
        finally:
            with self._cond:
                self._pumping = False
                self._cond.notify_all()

    def _await(self, predicate: Any, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        pumped = False  # pump at least once, so that timeout=0 still sees what has arrived
        while True:
            with self._cond:
                while True:
                    if predicate():
                        return True
                    remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
                    if remaining == 0.0 and (pumped or self._pumping):
                        return False
                    if not self._pumping:
                        self._pumping = True
                        break
                    self._cond.wait(remaining)
            pumped = True
            try:
                self._pump(remaining)
            finally:
                with self._cond:
                    self._pumping = False
                    self._cond.notify_all()

    # ------------------------------------------------------------------ pumping

    def _pump(self, timeout: float | None) -> None:
        """Wait up to *timeout* for anything from the child and take it in."""
        if self.watch_deadlines:
            timeout = WATCHDOG_POLL if timeout is None else min(timeout, WATCHDOG_POLL)
        waitables: list[Any] = [c for c in (self._report_conn, self._tell_conn) if c is not None]
        if not self._sentinel_ready:
            waitables.append(self.sentinel)
        ready = wait(waitables, timeout)
        if self.sentinel in ready:
            self._sentinel_ready = True
        self._drain()
        if self.watch_deadlines and not self._sentinel_ready:
            self._watchdog()
        if self._sentinel_ready:
            self._finish()

    def _drain(self) -> None:
        """Read every complete message waiting in the pipes (EOF closes a pipe)."""
        conn = self._report_conn
        try:
            while conn is not None and conn.poll(0):
                self._report = conn.recv_bytes()
        except (EOFError, OSError):
            conn.close()  # type: ignore[union-attr]
            self._report_conn = None
        conn = self._tell_conn
        try:
            while conn is not None and conn.poll(0):
                data = conn.recv_bytes()
                with self._cond:
                    self._inbox.append(data)
                    self._cond.notify_all()
        except (EOFError, OSError):
            self.sender.close(close_conn=True)  # the sender owns the connection's closing
            self._tell_conn = None

    def _watchdog(self) -> None:
        deadline = self.status[DEADLINE]
        if not deadline or time.monotonic() < deadline + WATCHDOG_GRACE:
            return
        index, limit, run = int(self.status[SECTION]), self.status[TIMEOUT], int(self.status[RUN])
        if self.status[DEADLINE] != deadline or not index:
            return  # the section ended meanwhile
        name = LIFECYCLE[index - 1]
        short = name.strip("_")
        where = f"on run {run}" if name in RUN_SECTIONS else f"after run {run}"
        error = ProcessTimeoutError(
            f"Timeout in {short} after {limit}s {where}", section=short, timeout=limit, current_run=run
        )
        error.add_note(
            f"{self.label} (pid {self.pid}) did not stop {name} at its deadline and was "
            f"killed {WATCHDOG_GRACE}s later; no __onfinish__, __result__ or __error__ ran"
        )
        self._abnormal = error
        try:
            self.process.kill()
        except (OSError, ValueError):
            pass

    def _finish(self) -> None:
        """The child is gone: settle the outcome and update the instance."""
        _unregister(self)
        self.process.join()
        self.exitcode = self.process.exitcode
        self.process.close()  # releases the sentinel and the fork pipes now, not at GC
        self._drain()
        if self._report is not None and self._abnormal is None:
            self._load_report(self._report)
        elif self._abnormal is None and not self._killed:
            self._abnormal = self._death_error()
        if self._abnormal is not None:
            self.error = self._abnormal
        self._report = None
        self._close()
        with self._cond:
            self.done = True
            self._cond.notify_all()

    def _load_report(self, data: bytes) -> None:
        try:
            kind, state, value, error, tb = cerial.deserialize(data)
            if state is not None:
                token = reclaim.set((self.proc.__dict__["_skprocess_internals"].token, self.proc))
                try:
                    cerial.deserialize(state)
                finally:
                    reclaim.reset(token)
            if error is not None and tb:
                error.__cause__ = RemoteTraceback(tb)
            self.error = error if kind == "error" else None
            self.value = cerial.deserialize(value) if value is not None else None
        except Exception as exc:
            self.error = ProcessError(
                f"the report of {self.label} could not be loaded in the parent: {type(exc).__name__}: {exc}",
                original_error=exc,
                current_run=int(self.status[RUN]),
            )
            self.error.__cause__ = exc

    def _death_error(self) -> ProcessError:
        code = self.exitcode
        run = int(self.status[RUN])
        started = bool(self.status[STARTED])
        if not started and code == MISSING_MAIN_GUARD_EXIT:
            return ProcessError(f"{self.label} could not start: {MISSING_MAIN_GUARD}", current_run=0)
        section = int(self.status[SECTION])
        if not started:
            where = "before it started"
        elif not run:
            where = f"in {LIFECYCLE[section - 1]} before its first run" if section else "before its first run"
        elif section:
            where = f"in {LIFECYCLE[section - 1]} on run {run}"
        else:
            where = f"on run {run}"
        who = f"{self.label} (pid {self.pid})"
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = "unknown signal"
            how = f"was killed by signal {-code} ({name}) {where}"
        else:
            how = (
                f"exited with code {code} {where} without reporting a result "
                "(os._exit() or a crash in the child; see its output on stderr)"
            )
        return ProcessError(f"{who} {how}", current_run=run if started else 0)

    def _close(self) -> None:
        self.sender.close(close_conn=True)
        for conn in (self._report_conn, self._lifeline):
            if conn is not None:
                conn.close()
        self._report_conn = self._lifeline = None
        self._tell_conn = None

    # ------------------------------------------------------------------ exit

    def failed_unguarded(self) -> bool:
        """True if the child exited because the main module starts processes unguarded."""
        try:
            code = self.exitcode if self.done else self.process.exitcode
        except ValueError:
            return False
        return code == MISSING_MAIN_GUARD_EXIT and not self.status[STARTED]

    def end_now(self) -> None:
        """Kill the child if it still runs and release the pipes (interpreter exit)."""
        try:
            if self.process.exitcode is None:
                self.process.kill()
                self.process.join(1.0)
        except (OSError, ValueError, AssertionError):
            pass
        if self._lifeline is not None:
            self._lifeline.close()
            self._lifeline = None


# ------------------------------------------------------------ the children of this process

_live: set[ParentHandle] = set()
_live_lock = threading.Lock()


def _register(handle: ParentHandle) -> None:
    with _live_lock:
        _live.add(handle)


def reap_ended() -> None:
    """Settle every process that has ended without anyone waiting on it.

    Called on each start(), so fire-and-forget processes do not keep their pipes
    (and file descriptors) open until the interpreter exits.
    """
    with _live_lock:
        handles = [h for h in _live if not h.done]
    if not handles:
        return
    ended = set(wait([h.sentinel for h in handles], 0))
    for handle in handles:
        if handle.sentinel in ended:
            handle.settle_if_idle()


def _unregister(handle: ParentHandle) -> None:
    with _live_lock:
        _live.discard(handle)


def end_children() -> None:
    """Kill every process this process started that still runs."""
    with _live_lock:
        handles = list(_live)
        _live.clear()
    unguarded = False
    for handle in handles:
        handle.end_now()
        unguarded = unguarded or handle.failed_unguarded()
    if unguarded:
        # Nobody waited on the process that could not start: say why before we go.
        sys.stderr.write(f"suitkaise.processing: a process could not start: {MISSING_MAIN_GUARD}")
        sys.stderr.flush()


def _forget_parents_children() -> None:
    # A forked child inherits the parent's table; those processes are not its own.
    global _live_lock
    _live_lock = threading.Lock()
    _live.clear()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_parents_children)
# Registered after multiprocessing.util's own exit hook, so it runs first (atexit is
# last-in, first-out) and multiprocessing then finds no child left to join.
atexit.register(end_children)
