"""The parent side of the local backend: one dispatcher thread per pool.

::

    callers' threads                dispatcher thread                      workers
    ----------------                -----------------                      -------
    submit(job) --jobs list-->      fill(): job.take() -> chunk  --TASK--> worker 1
    wake() --wake socket-->          (1 to DEPTH chunks in flight each) ---> worker 2
                                    select() on:                            ...
    job.next_reply() <--deliver--     worker sockets   <--DONE/FAILED----- worker n
                                      worker sentinels <--process exited--
                                      the wake socket
                                    a worker died: its running chunk fails
                                      (WorkerDiedError) or is retried; the
                                      chunk queued behind it runs elsewhere;
                                      a new worker takes its place

Each worker has its own socket, so the parent always knows which chunks sit on which
worker: the first in its in-flight list is running, the others (queued only behind
chunks expected to end soon, see ``Dispatcher._may_queue``) wait behind it.
Waiting on the process sentinels together with the sockets means a death is noticed
at once, whatever the worker was doing. Sends never block the dispatcher
(``MSG_DONTWAIT``; what does not fit waits for the socket to become writable), so a
worker busy writing a large reply and a parent writing it a task cannot deadlock.

A job whose call timed out or was interrupted is marked ``kill``: the workers running
its chunks are killed and replaced, so stuck work stops instead of running on.

Worker death and the lock: the dispatcher reads a reply outside the lock, then
updates the jobs under it. Workers are started outside the lock (forking while
holding it would copy a held lock into the child).

Ctrl-C: a caller's thread that hands out chunks (``submit``, ``wake``) may send
another call's chunk; in the main thread, that runs with SIGINT held back
(``_interrupts``), so a Ctrl-C never leaves a chunk listed on a worker but unsent.
"""

from __future__ import annotations

import atexit
import itertools
import os
import selectors
import socket
import struct
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from ... import cerial
from .._context import MISSING_MAIN_GUARD, MISSING_MAIN_GUARD_EXIT, mark_fork_safe
from .._forkclose import close_in_children, forget
from .._interrupts import interrupts_held
from .._poller import POLLIN, new_poller
from . import _protocol as proto
from ._chunking import SizerCache
from ._errors import BrokenPoolError, WorkerDiedError, describe_exit
from ._job import Chunk, Job, Reply, take_next
from ._recent import Recent
from ._worker import FN_CACHE
from .backends._base import CLOSING, RUNNING, Backend

__all__ = ("DEPTH", "QUEUE_BEHIND", "QUEUE_SHORT", "TRACK_MAX", "Dispatcher")

#: Most chunks in flight per worker: one running, the others waiting behind it so the
#: worker never idles between chunks.
DEPTH = 4
#: A chunk is queued behind a running one only if that one should end this soon (s).
QUEUE_BEHIND = 0.05
#: More than one chunk waits only while the work ahead is shorter than this (s).
QUEUE_SHORT = 0.002
#: Chunks of at most this many tasks report which task runs (exact crash reports).
TRACK_MAX = 64
#: Workers dying before they are ready this many times in a row break the pool.
STARTUP_FAILURES = 3
_SIZERS = 64  # task functions whose measurements are kept
#: Longest the dispatcher waits for the rest of a reply before serving other workers (s).
STALL = 0.02
_STALL_TIMEVAL = struct.pack("ll", 0, int(STALL * 1e6))
_WAITALL = getattr(socket, "MSG_WAITALL", 0)

_RUNNING, _CLOSING, _STOPPING = RUNNING, CLOSING, "stopping"
_WAKE, _SOCK, _EXIT = 0, 1, 2


class _Slot:
    """The dispatcher's view of one worker."""

    __slots__ = ("answered", "assigned", "connected", "fns", "got", "inflight", "killed",
                 "number", "out", "parts", "proc", "ready", "retiring", "writing")

    def __init__(self, number: int, proc: Any) -> None:
        self.number = number
        self.proc = proc
        self.inflight: deque[Chunk] = deque()
        self.out: deque[memoryview] = deque()  # bytes the socket did not take yet
        self.fns: OrderedDict[int, None] = OrderedDict()  # mirror of the worker's cache
        self.assigned = 0  # tasks sent in all (max_tasks_per_worker)
        self.ready = False
        self.retiring = False
        self.killed = False
        self.connected = True
        self.writing = False  # registered for EVENT_WRITE
        self.parts: list[bytes] = []  # the parts of the reply being read (head, table, meta, raws)
        self.got: list[bytes] = []  # what has come of the part being read
        self.answered = False  # a whole reply was read and waits for the lock


class Dispatcher(Backend):
    """Schedules jobs onto worker processes; see the module docstring."""

    #: How the workers start (``"fork"``, ``"forkserver"`` or ``"spawn"``): decides
    #: whether a worker gets work before it says it is ready. A subclass sets it before
    #: calling ``__init__``.
    start_method = "fork"

    def __init__(
        self,
        workers: int,
        launch: Callable[[int], Any],
        *,
        max_tasks_per_worker: int | None,
        crash_retries: int,
        label: str,
    ) -> None:
        self.workers = workers
        self.lock = threading.Lock()
        self.label = label
        self.pid = os.getpid()
        self._launch = launch
        self._max_tasks = max_tasks_per_worker
        self._crash_retries = crash_retries
        self._jobs: list[Job] = []
        self._rr = 0
        self._slots: list[_Slot | None] = [None] * workers
        self._state = _RUNNING
        self._outcome = "closed"
        self._broken: BrokenPoolError | None = None
        self._startup_failures = 0
        # the id workers cache a task function under (the SizerCache's keys and more)
        fn_ids = itertools.count(1)
        self._fn_ids: Recent[bytes, int] = Recent(_SIZERS, lambda fn_bytes: next(fn_ids))
        self._sizers = SizerCache(_SIZERS)
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        close_in_children(self._wake_r, self._wake_w)
        self._selector.register(self._wake_r, selectors.EVENT_READ, (_WAKE, None))
        self._woken = False
        self._want_write = False  # some slot has bytes waiting for its socket
        # A forked worker is ready within a millisecond: it gets work at once. A spawned
        # one takes tens of milliseconds, and the first ready gets the first chunk.
        self._before_ready = self.start_method == "fork"
        self._thread = threading.Thread(target=self._run, name=f"{label}-dispatcher", daemon=True)
        # The thread holds no lock a forked child could need (children never use the pool);
        # the module locks a worker needs are new in every forked child (_forklocks).
        mark_fork_safe(self._thread)
        if threading.current_thread() is threading.main_thread():
            # Like multiprocessing.Pool: start every worker now, from the main thread: a
            # worker's kernel death signal is tied to the thread that started it (the main
            # thread lives as long as the process), and a fork happens where the user
            # made the pool, not later, when other threads may hold locks. Spawn and
            # forkserver workers too: the constructor takes a few milliseconds more (the
            # first forkserver pool also starts the fork server, about 30 ms), as with
            # multiprocessing.Pool, but from the dispatcher thread a start waits for the
            # GIL while the caller's first map runs (measured: the first spawn 5 ms late).
            self._start_now()
        # Otherwise the dispatcher thread (which lives as long as the pool) starts every
        # worker, and each gets work as soon as it exists, while the next ones start.
        _live.add(self)
        self._thread.start()

    def _start_now(self) -> None:
        """Start every worker (constructor): a failure raises, and leaves nothing open.

        Every worker is prepared before the first fork and put in its slot after the
        last: after a fork, each page the parent writes is copied first (measured with
        two workers: 0.73 ms and 235 page faults between the forks, else)."""
        prepared: list[Any] = []
        try:
            for i in range(self.workers):
                prepared.append(self._launch(i + 1))
            for proc in prepared:
                proc.start()
            for i, proc in enumerate(prepared):
                self._add(i, proc)
        except BaseException:
            for proc in prepared:
                if proc.started:
                    proc.kill()
                    proc.reap(5.0)
                    proc.close()
                else:
                    proc.discard()
            self._selector.close()
            forget(self._wake_r, self._wake_w)
            self._wake_r.close()
            self._wake_w.close()
            raise

    def _add(self, index: int, proc: Any) -> None:
        """Put a started worker in its slot and hand it work (lock not held; from the
        constructor before the dispatcher thread runs, or from that thread)."""
        slot = _Slot(index + 1, proc)
        try:
            proc.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _STALL_TIMEVAL)
        except (OSError, AttributeError):
            pass  # no receive timeout here: a stopped worker may hold the dispatcher up
        self._selector.register(proc.sock, selectors.EVENT_READ, (_SOCK, slot))
        self._selector.register(proc.sentinel, selectors.EVENT_READ, (_EXIT, slot))
        with self.lock:
            self._slots[index] = slot
            self._housekeeping()
            self._fill()

    # ----------------------------------------------------------- callers' side

    @property
    def worker_pids(self) -> list[int]:
        with self.lock:
            return [s.proc.pid for s in self._slots if s is not None and not s.killed]

    def submit(self, job: Job) -> None:
        with interrupts_held():
            with self.lock:
                self.check_open()
                job.fn_id = self._fn_ids.get(job.fn_bytes)
                job.start(self._sizers.get((job.fn_bytes, job.flags)))
                self._jobs.append(job)
                self._fill()  # send the first chunks from this thread: no hand-off to wait for
                signal = self._want_write
            if signal:
                self._signal()

    def wake(self) -> None:
        """A job changed: hand out work, kill what must die (from the caller's thread)."""
        with interrupts_held():
            with self.lock:
                if self._state == _STOPPING:
                    return
                self._housekeeping()
                self._fill()
                signal = self._want_write
            if signal:
                self._signal()

    def _signal(self) -> None:
        """Wake the dispatcher thread up (callers hold interrupts back: a Ctrl-C between
        the flag and the byte would leave every later wake-up undone)."""
        if not self._woken:
            self._woken = True
            try:
                self._wake_w.send(b"\0")
            except OSError:  # full (a wake-up is pending anyway) or closed (stopped)
                pass

    def close(self) -> None:
        with interrupts_held():
            with self.lock:
                if self._state == _RUNNING:
                    self._state = _CLOSING
            self._signal()

    def terminate(self) -> None:
        with interrupts_held():
            with self.lock:
                if self._state != _STOPPING:
                    self._stop("terminated", BrokenPoolError(
                        "the Pool was terminated while this call was waiting for its results"))
            self._signal()
        if threading.current_thread() is not self._thread:
            self._thread.join(5.0)
            if self._thread.is_alive():  # should not happen; never leave a worker behind
                for slot in list(self._slots):
                    if slot is not None:
                        slot.proc.kill()

    def join(self, timeout: float | None = None) -> bool:
        if self._state == _RUNNING:
            raise ValueError("call close() or terminate() before join()")
        if threading.current_thread() is self._thread:
            return False
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # ------------------------------------------------------- dispatcher thread

    def _run(self) -> None:
        try:
            while True:
                self._start_missing()
                with self.lock:
                    self._housekeeping()
                    self._fill()
                    if self._want_write:
                        self._watch_writes()
                    if self._finished():
                        break
                for key, mask in self._selector.select():
                    kind, slot = key.data
                    if kind == _SOCK:
                        if mask & selectors.EVENT_WRITE:
                            self._flush(slot)
                        if mask & selectors.EVENT_READ and slot.connected:
                            self._read(slot)
                    elif kind == _EXIT:
                        self._exited(slot)
                    else:
                        self._drain_wake()
        except BaseException as exc:  # a bug here must not leave callers waiting forever
            error = BrokenPoolError(
                f"the Pool's dispatcher thread failed: {type(exc).__name__}: {exc}")
            error.__cause__ = exc
            with self.lock:
                self._stop("broken", error)
        finally:
            self._shutdown()

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass
        self._woken = False

    def _finished(self) -> bool:
        if any(self._slots):
            return False
        return self._state == _STOPPING or (self._state == _CLOSING and not self._jobs)

    def _stop(self, outcome: str, error: BrokenPoolError) -> None:
        """Stop now (lock held): fail every waiting call with *error*, kill every worker."""
        self._state = _STOPPING
        self._outcome = outcome
        if outcome == "broken":
            self._broken = error
        for job in self._jobs:
            job.fail(error.renewed())
        for slot in self._slots:
            if slot is not None:
                for chunk in slot.inflight:
                    chunk.job.fail(error.renewed())
                self._kill(slot)
        self._jobs = []

    def _kill(self, slot: _Slot) -> None:
        if not slot.killed:
            slot.killed = True
            slot.proc.kill()

    def _start_missing(self) -> None:
        """(Dispatcher thread.) Start a worker in every empty slot, when there is a use
        for it; each one gets work as soon as it exists (the next one starts while it runs)."""
        with self.lock:
            if self._state == _STOPPING or (self._state == _CLOSING and not self._jobs):
                return
            if self._startup_failures >= STARTUP_FAILURES:
                return
            empty = [i for i, slot in enumerate(self._slots) if slot is None]
        for i in empty:
            try:
                proc = self._launch(i + 1)
                proc.start()
            except Exception as exc:
                error = BrokenPoolError(
                    f"the Pool could not start a worker process: {type(exc).__name__}: {exc}")
                error.__cause__ = exc
                with self.lock:
                    self._stop("broken", error)
                return
            self._add(i, proc)

    def _housekeeping(self) -> None:
        if self._state == _STOPPING:  # e.g. a worker that was starting while we stopped
            for slot in self._slots:
                if slot is not None:
                    self._kill(slot)
            return
        if any(job.closed for job in self._jobs):
            self._jobs = [job for job in self._jobs if not job.closed]
        for slot in self._slots:
            if slot is None or slot.killed:
                continue
            if slot.inflight and slot.inflight[0].job.kill:
                if not self._answering(slot):
                    self._kill(slot)  # its running chunk belongs to a call that gave up
            elif (self._state == _CLOSING and not self._jobs and not slot.inflight
                  and not slot.retiring):
                self._retire(slot)

    def _answering(self, slot: _Slot) -> bool:
        """Has *slot*'s worker answered its running chunk already? Then the chunk behind
        it may be running now, and a kill meant for the first would stop (and run again)
        the next one, of another call perhaps: its reply is read first."""
        return slot.answered or (slot.connected and _readable(slot.proc.sock))

    def _retire(self, slot: _Slot) -> None:
        slot.retiring = True
        self._write(slot, proto.TASK_HEAD.pack(proto.QUIT, 0, 0, 0, 0, 0, 0))

    def _fill(self) -> None:
        """Hand out chunks while a worker can take one and a job has work.

        Idle workers are served first, one chunk each; then a second chunk is queued
        behind a running one, but only behind a chunk expected to finish soon (see
        :meth:`_may_queue`): a queued chunk cannot move to another worker, so queueing
        it behind a long task would hold its result back."""
        if not self._jobs or self._state == _STOPPING:
            return
        max_tasks = self._max_tasks
        now = time.monotonic()
        for level in range(DEPTH):
            while True:
                sent = False
                for slot in self._slots:
                    if (slot is None or len(slot.inflight) > level or slot.retiring
                            or slot.killed or not slot.connected
                            or not (slot.ready or self._before_ready)):
                        continue
                    if level and not self._may_queue(slot, now):
                        continue
                    limit = 1 << 62
                    if max_tasks is not None:
                        limit = max_tasks - slot.assigned
                        if limit <= 0:
                            if not slot.inflight:
                                self._retire(slot)
                            continue
                    chunk = self._pick(limit)
                    if chunk is None:
                        return  # no job has work to hand out
                    chunk.sent_at = now
                    self._send(slot, chunk)
                    sent = True
                if not sent:
                    break

    @staticmethod
    def _may_queue(slot: _Slot, now: float) -> bool:
        """May another chunk wait on *slot*? Only behind chunks of known cost: one
        behind a chunk expected to end within QUEUE_BEHIND seconds, more (up to DEPTH)
        while the work ahead is under QUEUE_SHORT seconds (tiny chunks, so the worker
        does not run dry while the parent is busy elsewhere)."""
        ahead = 0.0
        for chunk in slot.inflight:
            sizer = chunk.job.sizer
            if not sizer.known:
                return False  # the task's cost is unknown: it may be long
            ahead += chunk.n * sizer.seconds / sizer.items
        running = slot.inflight[0]
        if now - running.sent_at > 2 * ahead + 0.005:
            return False  # taking longer than expected: maybe stuck
        limit = QUEUE_BEHIND if len(slot.inflight) == 1 else QUEUE_SHORT
        return ahead < limit

    def _pick(self, limit: int) -> Chunk | None:
        chunk, self._rr = take_next(self._jobs, self._rr, limit)
        return chunk

    def _send(self, slot: _Slot, chunk: Chunk) -> None:
        job = chunk.job
        try:
            args = cerial.serialize(chunk.items)
        except Exception:
            job.unsendable(chunk)
            return
        fns = slot.fns
        if job.fn_id in fns:
            fns.move_to_end(job.fn_id)
            fn_bytes = b""
        else:
            fn_bytes = job.fn_bytes
            fns[job.fn_id] = None
            if len(fns) > FN_CACHE:
                fns.popitem(last=False)
        flags = job.flags
        if chunk.track or chunk.n <= TRACK_MAX:
            flags |= proto.FLAG_TRACK
            chunk.track = True
        chunk.nbytes = len(args)
        job.sent_items += chunk.n
        job.sent_bytes += chunk.nbytes
        slot.assigned += chunk.n
        slot.inflight.append(chunk)
        head = proto.TASK_HEAD.pack(proto.TASK, flags, job.fn_id, chunk.id, chunk.start,
                                    len(fn_bytes), len(args))
        self._write(slot, b"".join((head, fn_bytes, args)))

    def _write(self, slot: _Slot, data: bytes) -> None:
        """Send *data* without blocking (lock held, any thread); the rest waits in
        ``slot.out`` for the dispatcher thread to flush when the socket is writable."""
        if slot.killed or not slot.connected:
            return
        if not slot.out:
            try:
                sent = proto.send_some(slot.proc.sock, data)  # type: ignore[arg-type]
            except OSError:
                return  # the worker is gone; its sentinel tells us
            if sent == len(data):
                return
            data = memoryview(data)[sent:]  # type: ignore[assignment]
            self._want_write = True
        slot.out.append(memoryview(data))

    def _watch_writes(self) -> None:
        """(Dispatcher thread, lock held.) Watch the sockets that have bytes waiting."""
        self._want_write = False
        for slot in self._slots:
            if slot is not None and slot.out and slot.connected and not slot.writing:
                slot.writing = True
                events = selectors.EVENT_READ | selectors.EVENT_WRITE
                self._selector.modify(slot.proc.sock, events, (_SOCK, slot))

    def _flush(self, slot: _Slot) -> None:
        with self.lock:
            out = slot.out
            while out:
                try:
                    sent = proto.send_some(slot.proc.sock, out[0])
                except OSError:
                    out.clear()
                    break
                if sent < len(out[0]):
                    out[0] = out[0][sent:]
                    return
                out.popleft()
            if slot.connected and slot.writing:
                slot.writing = False
                self._selector.modify(slot.proc.sock, selectors.EVENT_READ, (_SOCK, slot))

    def _read(self, slot: _Slot, final: bool = False) -> None:
        """Read one reply from *slot*'s worker and hand it to its job.

        Each read waits at most STALL seconds for its bytes (``SO_RCVTIMEO``): a reply
        that stops halfway (its worker is stopped, or starved of CPU) stays in
        ``slot.parts`` and resumes when the socket is readable again, so one worker
        never holds up the others. With *final* (the worker has exited) the socket is
        non-blocking: what is there is all there will be.
        """
        sock = slot.proc.sock
        parts = slot.parts
        head_size = proto.REPLY_HEAD.size
        while True:
            if not parts:
                size = head_size
            else:
                head = proto.REPLY_HEAD.unpack(parts[0])
                kind, flags, count, chunk_id, elapsed, meta_len, n_raw = head
                done = len(parts) - 1 - (1 if n_raw else 0)  # meta and raws read so far
                if n_raw and len(parts) == 1:
                    size = 8 * n_raw
                elif done == 0:
                    size = meta_len
                elif done <= n_raw:
                    size = struct.unpack_from("<Q", parts[1], 8 * (done - 1))[0]
                else:
                    break
            data = self._receive(slot, sock, size, final)
            if data is None:
                return None  # the rest comes later (or never: the socket is closed)
            parts.append(data)
        slot.parts = []
        meta = parts[2 if n_raw else 1]
        raws = parts[3:] if n_raw else []
        slot.answered = True
        with self.lock:
            slot.answered = False
            if kind == proto.READY:
                slot.ready = True
                self._startup_failures = 0
                return None
            chunk = slot.inflight.popleft()
            if chunk.id != chunk_id:
                raise RuntimeError(
                    f"worker {slot.number} answered chunk {chunk_id}, expected {chunk.id}")
            job = chunk.job
            if kind == proto.DONE:
                job.sizer.record(chunk.n, elapsed, chunk.nbytes + meta_len + sum(map(len, raws)))
            job.deliver(chunk, Reply(kind, chunk.start, chunk.n, flags, meta, raws))
            if slot.inflight and slot.inflight[0].job.kill and not self._answering(slot):
                self._kill(slot)
        return None

    def _receive(self, slot: _Slot, sock: socket.socket, size: int, final: bool) -> bytes | None:
        """The next *size* bytes from *sock*, or None: not all there yet (what came
        waits in ``slot.got``), or the worker is gone (then *slot* is disconnected)."""
        if size == 0:
            return b""
        got = slot.got
        need = size - sum(map(len, got))
        while True:
            try:
                data = sock.recv(need, _WAITALL)  # one copy, into the final bytes object
            except BlockingIOError:  # nothing within STALL seconds (or at all, if final)
                if final:
                    self._disconnected(slot)
                return None
            except OSError:
                self._disconnected(slot)
                return None
            if not data:
                self._disconnected(slot)
                return None
            if len(data) == size:
                return data
            got.append(data)
            need -= len(data)
            if not need:
                slot.got = []
                return b"".join(got)
            if not final:
                return None  # a stall (or a signal): resume when readable again

    def _disconnected(self, slot: _Slot) -> None:
        """EOF on a worker's socket: it is exiting; its sentinel settles the rest."""
        if slot.connected:
            slot.connected = False
            self._selector.unregister(slot.proc.sock)
            slot.out.clear()

    def _exited(self, slot: _Slot) -> None:
        """A worker process has ended: account for its chunks, free its slot."""
        if slot.connected:  # replies it sent before it died still count
            slot.proc.sock.setblocking(False)  # what is there, no more: never wait here
            while slot.connected:
                self._read(slot, final=True)
        self._selector.unregister(slot.proc.sentinel)
        exitcode = slot.proc.reap()
        with self.lock:
            self._slots[slot.number - 1] = None
            chunks = list(slot.inflight)
            slot.inflight.clear()
            for chunk in chunks[1:]:
                chunk.job.requeue_chunk(chunk)  # queued behind the running one: never started
            running = chunks[0] if chunks else None
            if not slot.ready and not slot.killed and not slot.retiring:
                if running is not None:
                    running.job.requeue_chunk(running)
                self._startup_failure(slot, exitcode)
            elif running is not None:
                job = running.job
                if job.kill or job.closed:
                    job.inflight -= running.n  # killed on purpose: nobody wants these
                elif slot.killed:
                    job.requeue_chunk(running)
                else:
                    self._crashed(slot, running, exitcode)
        slot.proc.close()

    def _startup_failure(self, slot: _Slot, exitcode: int | None) -> None:
        self._startup_failures += 1
        if exitcode == MISSING_MAIN_GUARD_EXIT:
            message = f"the Pool's worker processes could not start: {MISSING_MAIN_GUARD}"
        elif self._startup_failures >= STARTUP_FAILURES:
            message = (
                f"the Pool's worker processes could not start: {STARTUP_FAILURES} in a row "
                f"{describe_exit(exitcode)} before they were ready (see their output on stderr)"
            )
        else:
            return
        self._stop("broken", BrokenPoolError(message))

    def _crashed(self, slot: _Slot, chunk: Chunk, exitcode: int | None) -> None:
        """*slot*'s worker died while running *chunk*: retry it, or fail the task."""
        job = chunk.job
        if chunk.attempt < self._crash_retries:
            job.inflight -= chunk.n
            job.requeue.append(Chunk(job, chunk.start, chunk.items, chunk.attempt + 1, track=True))
            return
        at: int | None = None
        if chunk.track:
            index = int(slot.proc.progress[0])
            if chunk.start <= index < chunk.start + chunk.n:
                at = index
        if at is not None:
            where = f"while running task {at} (the task at index {at} of the input)"
            tasks = range(at, at + 1)
        else:
            where = f"while running one of the tasks {chunk.start}-{chunk.start + chunk.n - 1}"
            tasks = chunk.tasks
        attempts = ""
        if self._crash_retries:
            attempts = f" (attempt {chunk.attempt + 1} of {self._crash_retries + 1})"
        earlier = ""
        if at is not None and at > chunk.start:
            # Run again only with crash_retries: a task may have effects beyond its result.
            earlier = (f"; the results of tasks {chunk.start}-{at - 1}, which it ran before, "
                       "were lost with it")
        error = WorkerDiedError(
            f"worker {slot.number} (pid {slot.proc.pid}) {describe_exit(exitcode)} {where} of "
            f"{job.label}(){attempts}{earlier}; a crash in native code, os._exit(), running out "
            "of memory or a signal from outside ends a worker like this. The pool has started a "
            "new worker in its place",
            worker=slot.number,
            pid=slot.proc.pid,
            exitcode=exitcode,
            tasks=tasks,
        )
        job.lost(chunk, error)

    def _shutdown(self) -> None:
        """The thread is ending: nothing may be left running or open."""
        with self.lock:
            if self._state != _STOPPING:
                self._state = _STOPPING
            for job in self._jobs:
                job.fail(self._broken
                         or BrokenPoolError("the Pool stopped while this call was waiting"))
            self._jobs = []
            slots = [s for s in self._slots if s is not None]
            self._slots = [None] * self.workers
        for slot in slots:
            self._kill(slot)
        for slot in slots:
            slot.proc.reap(5.0)
            slot.proc.close()
        self._selector.close()
        forget(self._wake_r, self._wake_w)
        self._wake_r.close()
        self._wake_w.close()
        _live.discard(self)


def _readable(sock: socket.socket) -> bool:
    """Is there something to read on *sock* now? (poll() where there is one: select()
    cannot take descriptors over FD_SETSIZE.)"""
    try:
        ready = new_poller()
        ready.register(sock, POLLIN)
        return bool(ready.poll(0))
    except (OSError, ValueError):
        return False


_live: weakref.WeakSet[Dispatcher] = weakref.WeakSet()


def _terminate_all() -> None:
    """At interpreter exit: no worker outlives its parent."""
    for dispatcher in list(_live):
        if dispatcher.pid == os.getpid():
            dispatcher.terminate()


# Registered after multiprocessing's own exit hook (imported above), so it runs first
# (atexit is last in, first out) and multiprocessing finds no worker left to join.
atexit.register(_terminate_all)
