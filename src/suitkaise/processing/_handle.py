"""The parent side of one running process: start it, watch it, collect what it sends.

::

    ParentHandle
      exit fd (pidfd)   --readable when the child is gone-----------+
      report pipe       --the one report (kind, state, value, error)-+--> pump() --> outcome
      tell socket       --tell() messages from the child-------------+        \\--> inbox
      (its 2nd fd)      --tell() messages to the child (a Sender: never blocks)
      status array      --run / section / deadline, read by the watchdog (shared memory)

No background thread: whichever thread calls ``wait()``, ``result()`` or ``listen()``
pumps (one at a time; the others wait on a condition and look at what the pumper
found). A ``listen()`` that pumps takes the next message straight from the pipe when
none is queued (without copying it into the inbox first); messages read by any other
pumper are queued in the inbox, in order. A ``listen()`` with no time limit waits in
the read of the tell socket itself (a message wakes it sooner than ``poll()`` would),
looking at the report and the exit descriptor every ``DEATH_CHECK`` seconds, in case a
process the child forked keeps the socket open after the child's death. Waiting on the
exit descriptor together with the pipes means a child that dies without a word
(SIGKILL, ``os._exit``, a segfault) is noticed at once. Reading the pipes while
waiting means a child is never stuck writing a large report or a burst of ``tell()``
messages. The watchdog is part of the pump:
with timeouts configured, the pump wakes every ``WATCHDOG_POLL`` seconds and kills a
child that is more than ``WATCHDOG_GRACE`` seconds past the deadline of its running
section.

No orphans: the child watches a "lifeline" pipe whose write end only the parent
holds (EOF: the parent is gone, the child dies at once; see ``_runner``), and
``atexit`` kills every child still running. Forked children close the parent's ends of
every pipe (``_forkclose``), so no other process keeps a lifeline open.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from multiprocessing.connection import Connection
from typing import Any

from .. import cerial
from .._forklocks import renew_in_children
from ._channel import (
    CLOSED,
    NOT_YET,
    WAITS_IN_READ,
    Receiver,
    Sender,
    Waiter,
    channel,
    decode,
    encode,
)
from ._context import MISSING_MAIN_GUARD, MISSING_MAIN_GUARD_EXIT
from ._errors import ProcessError, ProcessTimeoutError, RemoteTraceback
from ._exitfd import exit_fd
from ._fastfork import process_class
from ._forkclose import close_in_children, forget
from ._interrupts import interrupts_held
from ._lifecycle import INTERNALS, LIFECYCLE, RUN_SECTIONS, ForkPayload, reclaim
from ._runner import (
    DEADLINE,
    RUN,
    SECTION,
    STARTED,
    STATUS_SIZE,
    STOP,
    TIMEOUT,
    arm_lifeline,
    child_main,
    give_lifeline,
    prepare_fork,
)
from ._sharedmem import SharedArray

__all__ = ("WATCHDOG_GRACE", "WATCHDOG_POLL", "ParentHandle", "end_children", "reap_ended")

#: Seconds a child may stay past a section's deadline before the parent kills it.
WATCHDOG_GRACE = 1.0
#: How often (seconds) a waiting parent checks the deadline of a child with timeouts.
WATCHDOG_POLL = 0.05
#: Seconds a listener waiting in a read goes between two looks at the child's exit.
DEATH_CHECK = 0.25


class ParentHandle:
    """Starts one child for *proc* and tracks it until its outcome is known."""

    def __init__(self, proc: Any, ctx: Any, payload: Any, watch_deadlines: bool) -> None:
        self.proc = proc
        self.label = type(proc).__qualname__
        self.method = ctx.get_start_method()
        self.watch_deadlines = watch_deadlines
        shared = SharedArray(ctx, "d", STATUS_SIZE)
        self._shared: SharedArray | None = shared  # until the child has ended
        self.status: Any = shared.view
        made: list[Any] = []  # every end, closed again if the start fails
        try:
            # tell/listen: one socket pair for both directions (see _channel). The
            # report and the lifeline are pipes (the lifeline's EOF signals the child:
            # see _runner).
            made += ctx.Pipe(duplex=False)
            made += channel(ctx)
            made += ctx.Pipe(duplex=False)
            (report_r, report_w, tell_in, tell_out,
             child_in, child_out, lifeline_r, lifeline_w) = made
            parents_ends = (report_r, tell_in, tell_out, lifeline_w)
            childs_ends = (report_w, child_out, child_in, lifeline_r)
            # No other child keeps a copy of either side; ours keeps its own ends.
            close_in_children(*parents_ends)
            close_in_children(*childs_ends, keep_for=threading.get_ident())
            armed = arm_lifeline(lifeline_r)
            self._settle_in(parents_ends)
            if isinstance(payload, ForkPayload):
                prepare_fork(payload, shared.view, child_out, child_in)
            # Kept until the child has ended: freeing the objects of a fork payload right
            # after the fork writes to every page they live on (each one copied first,
            # as the child shares it); nobody waits on this process for that later.
            self._fork_payload = payload if isinstance(payload, ForkPayload) else None
            self.process = process_class(ctx)(
                target=child_main,
                args=(payload, report_w, child_out, child_in, lifeline_r, armed,
                      shared.for_child()),
                name=f"Skprocess:{self.label}",
                daemon=False,
            )
            self.process.start()
        except BaseException as exc:
            forget(*made)
            for conn in made:
                conn.close()
            shared.close()
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
        self._parents_ends = parents_ends  # (forgotten by _close and end_now)
        try:
            self.pid = self.process.pid
            if armed:
                give_lifeline(lifeline_r, self.pid)  # first: the child looks for it first
            forget(*childs_ends)
            for conn in childs_ends:
                conn.close()
            shared.started()
            self.sentinel, self._own_sentinel = exit_fd(self.process)
            self._waiter.add(self.sentinel)
            self._report_rx.watch(self.sentinel)
            self._tell_rx.watch(self.sentinel)
            _register(self)
            # Here, not by the caller: a Ctrl-C right after this constructor returned
            # would lose the only handle of a running child.
            proc.__dict__[INTERNALS].handle = self
        except BaseException:
            # (Ctrl-C, say) a child nobody could reach or end: end it now.
            _unregister(self)
            self.process.kill()
            self.process.join(5.0)
            forget(*parents_ends)
            for conn in made:
                conn.close()
            if getattr(self, "_own_sentinel", False):
                os.close(self.sentinel)
            raise

    def _settle_in(self, parents_ends: tuple[Connection, ...]) -> None:
        """The parent's own bookkeeping, made before the fork: the parent usually shares
        its CPU with the new child until it blocks, and after the fork every page it
        writes to is copied first (the child shares them), so each step there costs more
        and delays the child's first run."""
        report_r, tell_in, tell_out, lifeline_w = parents_ends
        self._report_conn: Connection | None = report_r
        self._tell_in: Connection | None = tell_in
        self._tell_out: Any = tell_out  # (a socket: see _channel.channel)
        self._lifeline: Connection | None = lifeline_w
        self._sender: Sender | None = None  # made by the first tell()
        self._report_rx = Receiver(report_r)
        self._tell_rx = Receiver(tell_in)
        self._waiter = Waiter([report_r, tell_in])  # and the sentinel, once there is one
        # A plain lock: "with self._lock" is cheaper than "with self._cond"; the
        # condition is made when a second thread first has to wait, and notify_all()
        # is skipped while nobody waits. (This is every listen()'s path.)
        self._lock = threading.Lock()
        self._cond: threading.Condition | None = None
        self._waiting = 0  # threads in self._cond.wait()
        self._pumping = False
        self._inbox: deque[bytes | bytearray | memoryview] = deque()
        self._taken: Any = _NOTHING  # a message decoded for a listener (see listen())
        self._report: bytes | bytearray | memoryview | None = None
        self._sentinel_ready = False
        self._reaped = False  # _finish has taken the child's end in (see _finish)
        self._killed = False
        self._abnormal: ProcessError | None = None  # died without a report, or watchdog
        #: True once the child has exited and its outcome is settled.
        self.done = False
        self.exitcode: int | None = None
        self.value: Any = None
        self.error: ProcessError | None = None

    # ------------------------------------------------------------------ control

    def stop(self) -> None:
        if not self.done:
            self.status[STOP] = 1.0

    def kill(self) -> None:
        with self._lock:
            if self.done or self._report is not None:
                return
            self._killed = True
        try:
            self.process.kill()
        except (OSError, ValueError, AttributeError):
            pass

    def tell(self, obj: Any) -> None:
        """The first tell: makes the Sender, whose ``send`` then replaces this method
        on the instance (one call less for every later tell). Once the child has
        ended, its Sender is closed: ``send`` encodes (same errors as a live tell) and
        drops the message."""
        with self._lock:
            if self._sender is None and self._tell_out is not None and not self.done:
                self._sender = Sender(self._tell_out, self.label)
                self.tell = self._sender.send  # type: ignore[method-assign]
            sender = self._sender
        if sender is not None:
            sender.send(obj)
        else:
            encode(obj)  # same errors as a live tell, then nothing to deliver

    # ------------------------------------------------------------------ waiting

    def wait(self, timeout: float | None) -> bool:
        finished = self._await(lambda: self.done, timeout) is True
        if finished and self._abnormal is not None:
            raise self._abnormal.with_traceback(None)
        return finished

    def listen(self, timeout: float | None) -> Any:
        # A message decoded for a listener waits in self._taken until a listen() hands
        # it out (the last step, after every lock is let go): a Ctrl-C on the way leaves
        # it there for the next one.
        taken = self._pop_taken()
        if taken is not _NOTHING:
            return taken
        # The pumping claim is made inside the try: a Ctrl-C between taking it and
        # entering the try would leave it taken for good (every later wait hangs).
        mine = False
        data = None
        try:
            with self._lock:
                data = self._inbox.popleft() if self._inbox else None
                if (data is None and not self._pumping and self._tell_in is not None
                        and not self.done):
                    self._pumping = mine = True
            if mine:
                # The usual case: pump ourselves, and the next message comes straight to us.
                started = None if timeout is None else time.monotonic()
                taken = self._pump(timeout, take=True)
        except BaseException:
            if data is not None:  # (interrupted with it in hand: it stays the next one)
                with self._lock:
                    self._inbox.appendleft(data)
            raise
        finally:
            if mine:
                self._pumping = False  # (before any call: no interrupt comes before it)
                with self._lock:  # (_pumped, inline)
                    if self._waiting:
                        self._cond.notify_all()  # type: ignore[union-attr]
        if taken is _TAKEN:
            taken = self._pop_taken()
            if taken is not _NOTHING:
                return taken  # (else another listener handed it out first: wait on)
        if mine and started is not None:
            timeout = max(timeout - (time.monotonic() - started), 0.0)  # type: ignore[operator]
        if data is None:
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
                found = self._await(
                    lambda: (self._taken is not _NOTHING or bool(self._inbox)
                             or self._tell_in is None or self.done),
                    left, take=True,
                )
                taken = self._pop_taken()  # (one another listener left behind comes first)
                if taken is not _NOTHING:
                    return taken
                if found is not _TAKEN:
                    break
            with self._lock:
                data = self._inbox.popleft() if self._inbox else None
        if data is None:
            return None
        try:
            return decode(data)
        except Exception:
            raise
        except BaseException:  # interrupted while it decodes: it stays the next message
            with self._lock:
                self._inbox.appendleft(data)
            raise

    def _pop_taken(self) -> Any:
        """The message kept for a listener, or :data:`_NOTHING` (no call in between:
        neither a signal nor another thread comes between the read and the reset)."""
        taken = self._taken
        self._taken = _NOTHING
        return taken

    def settle_if_idle(self) -> None:
        """Take in the outcome of an ended child, unless another thread is on it."""
        claimed = False
        try:
            with self._lock:
                if self._pumping or self.done:
                    return
                self._pumping = claimed = True
            self._pump(0)
        finally:
            if claimed:
                self._pumping = False
                self._pumped()

    def _pumped(self) -> None:
        """Wake the threads waiting for the pump, just let go (``_pumping = False`` is
        set by the caller first, with no call before it: no interrupt comes between)."""
        with self._lock:
            self._wake()

    def _wake(self) -> None:
        """Wake the threads waiting on the pumper (call it with the lock held)."""
        if self._waiting:
            self._cond.notify_all()  # type: ignore[union-attr]

    def _await(self, predicate: Any, timeout: float | None, take: bool = False) -> Any:
        """Pump (or wait for the thread that pumps) until *predicate* holds: True, or
        False after *timeout*. With *take*, a message read while the inbox is empty is
        not queued but returned, deserialized (it is the next one for this listener)."""
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        pumped = False  # pump at least once, so that timeout=0 still sees what has arrived
        while True:
            claimed = False  # (taken inside the try, as in listen())
            try:
                with self._lock:
                    while True:
                        if predicate():
                            return True
                        remaining = (None if deadline is None
                                     else max(deadline - time.monotonic(), 0.0))
                        if remaining == 0.0 and (pumped or self._pumping):
                            return False
                        if not self._pumping:
                            self._pumping = claimed = True
                            break
                        if self._cond is None:
                            self._cond = threading.Condition(self._lock)
                        self._waiting += 1
                        try:
                            self._cond.wait(remaining)
                        finally:
                            self._waiting -= 1
                pumped = True
                if self._pump(remaining, take) is _TAKEN:
                    return _TAKEN
            finally:
                if claimed:
                    self._pumping = False
                    self._pumped()

    # ------------------------------------------------------------------ pumping

    def _pump(self, timeout: float | None, take: bool = False) -> Any:
        """Wait up to *timeout* for anything from the child and take it in.

        Returns :data:`_TAKEN` when it kept a message for a listener (in ``_taken``,
        see :meth:`listen`), else :data:`_NOTHING`.
        """
        if self._sentinel_ready:  # an earlier _finish was interrupted: go on with it
            self._finish()
            return _NOTHING
        if self.watch_deadlines:
            timeout = WATCHDOG_POLL if timeout is None else min(timeout, WATCHDOG_POLL)
        if self._tell_in is not None and self._tell_rx.buffered:
            timeout = 0  # a message is already here, though the pipe may be empty
        elif (WAITS_IN_READ and timeout is None and take and not self._inbox
              and isinstance(self._tell_out, socket.socket)):
            # A listener with no time limit waits in the read itself (see get_within).
            # The child's death ends that read with EOF, unless a process it started
            # kept a copy of its end: the report and the exit descriptor are looked at
            # between two waits, so that death is still seen within DEATH_CHECK seconds.
            self._taken = self._tell_rx.get_within(self._tell_out, DEATH_CHECK)
            if self._taken is CLOSED:
                self._taken = _NOTHING
                self._tell_in_closed()
            elif self._taken is not NOT_YET:
                return _TAKEN
            else:
                self._taken = _NOTHING
                timeout = 0
        ready = self._waiter.wait(timeout)
        if not self._sentinel_ready and self.sentinel in ready:
            self._sentinel_ready = True
            self._waiter.remove(self.sentinel)
        taken = self._drain(ready, take)
        if self.watch_deadlines and not self._sentinel_ready:
            self._watchdog()
        if self._sentinel_ready:
            self._finish()
        return taken

    def _drain(self, ready: list[Any] | None = None, take: bool = False) -> Any:
        """Read every complete message waiting in the pipes (EOF closes a pipe); with
        *take*, stop at a message that finds the inbox empty, keep it decoded for the
        listener in ``_taken`` and return :data:`_TAKEN` (else :data:`_NOTHING`).

        *ready*: the pipes a wait just found readable; the others are known to be empty.
        """
        conn = self._report_conn
        try:
            if conn is not None and (ready is None or conn in ready):
                while self._report_rx.readable():
                    self._report = self._report_rx.recv()
        except (EOFError, OSError):
            self._waiter.remove(conn)
            conn.close()  # type: ignore[union-attr]
            self._report_conn = None
        conn = self._tell_in
        rx = self._tell_rx
        if conn is None or not (ready is None or conn in ready or rx.buffered):
            return _NOTHING
        known = ready is not None and conn in ready  # (no need to ask again)
        try:
            while known or rx.readable():
                known = False
                if take and not self._inbox:
                    break
                self._inbox.append(rx.recv())  # (at once: no interrupt can come between)
                with self._lock:
                    self._wake()
            else:
                return _NOTHING
        except (EOFError, OSError):
            self._tell_in_closed()
            return _NOTHING
        # Taken for a listener: decoded here (what decoding raises goes to the
        # listener), before anyone reads on (a large message may sit in a reused buffer),
        # and kept at once (see listen()).
        self._taken = rx.get()
        if self._taken is CLOSED:
            self._taken = _NOTHING
            self._tell_in_closed()
            return _NOTHING
        return _TAKEN

    def _tell_in_closed(self) -> None:
        """The child has ended: nothing more comes from it, nothing more to tell it."""
        self._waiter.remove(self._tell_in)
        self._tell_in.close()  # type: ignore[union-attr]
        self._tell_in = None
        self._close_sender()

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
            f"Timeout in {short} after {limit}s {where}",
            section=short,
            timeout=limit,
            current_run=run,
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
        """The child is gone: settle the outcome and update the instance.

        Interrupted (Ctrl-C while a large result loads, say), it goes on where it
        stopped at the next wait (``_pump`` calls it again): the quick steps run with
        SIGINT held, and the report stays until it has loaded."""
        if self.done:
            return
        if not self._reaped:
            with interrupts_held():
                _unregister(self)
                self._fork_payload = None
                self.process.join()
                self.exitcode = self.process.exitcode
                self._drain()  # (a message cut short by the death ends at the exit descriptor)
                self._report_rx.unwatch()
                self._tell_rx.unwatch()
                self.process.close()  # releases the sentinel and the fork pipes now, not at GC
                if self._own_sentinel:
                    self._own_sentinel = False
                    os.close(self.sentinel)
                self._reaped = True
        if self._report is not None and self._abnormal is None:
            self._load_report(self._report)
        elif self._abnormal is None and not self._killed:
            self._abnormal = self._death_error()
        with interrupts_held():
            if self._abnormal is not None:
                self.error = self._abnormal
            self._report = None
            # The status stays readable as a plain copy; its shared memory goes now rather
            # than when this handle is collected (a memfd mapping holds a descriptor).
            self.status = list(self.status)
            self._shared = None
            self._close()
            with self._lock:
                self.done = True
                self._wake()

    def _load_report(self, data: bytes | bytearray | memoryview) -> None:
        try:
            kind, state, value, error, tb = cerial.deserialize(data)
            if state is not None:
                token = reclaim.set((self.proc.__dict__[INTERNALS].token, self.proc))
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
                f"the report of {self.label} could not be loaded in the parent: "
                f"{type(exc).__name__}: {exc}",
                original_error=exc,
                current_run=int(self.status[RUN]),
            )
            self.error.__cause__ = exc

    def _death_error(self) -> ProcessError:
        code = self.exitcode
        run = int(self.status[RUN])
        started = bool(self.status[STARTED])
        if not started and code == MISSING_MAIN_GUARD_EXIT:
            return ProcessError(
                f"{self.label} could not start: {MISSING_MAIN_GUARD}", current_run=0
            )
        section = int(self.status[SECTION])
        if not started:
            where = "before it started"
        elif not run:
            where = "before its first run"
            if section:
                where = f"in {LIFECYCLE[section - 1]} {where}"
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

    def _close_sender(self) -> None:
        with self._lock:
            sender, self._sender = self._sender, None
            conn, self._tell_out = self._tell_out, None
        if sender is not None:
            sender.close(close_conn=True)  # the sender owns its connection's closing
        elif conn is not None:
            conn.close()

    def _close(self) -> None:
        forget(*self._parents_ends)
        self._close_sender()
        for conn in (self._report_conn, self._tell_in):
            if conn is not None:
                self._waiter.remove(conn)
                conn.close()
        if self._lifeline is not None:
            self._lifeline.close()
        self._report_conn = self._lifeline = self._tell_in = None

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
            forget(*self._parents_ends)
            self._lifeline.close()
            self._lifeline = None


#: What the pump returns when it took no message for a listener.
_NOTHING: Any = object()
#: What it returns when it did (the message waits in ``ParentHandle._taken``).
_TAKEN: Any = object()


# ------------------------------------------------------------ the children of this process

_live: set[ParentHandle] = set()
_live_lock = threading.Lock()
renew_in_children(_live_lock)


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
    ended = set(Waiter([h.sentinel for h in handles]).wait(0))
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
    # A forked child inherits the parent's table; those processes are not its own (and
    # _forkclose closes their pipes). (The table's lock is reset by _forklocks.)
    if _live:
        _live.clear()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_parents_children)
# Registered after multiprocessing.util's own exit hook (multiprocessing.connection,
# imported above, imports it), so it runs first (atexit is last-in, first-out) and
# multiprocessing then finds no child left to join.
atexit.register(end_children)
