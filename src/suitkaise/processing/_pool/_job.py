"""One call (``map``, ``imap``, ``unordered_imap``): its input, its chunks, its results.

A :class:`Job` is shared by two threads and guarded by the backend's lock::

    caller's thread (consumer)                    dispatcher thread (backend)
    --------------------------                    ---------------------------
    refill(): pulls the input iterator  --buf-->  take(): cuts the next chunk
              (user code runs here; the                   (sizer, ramp, guided cap)
              feeder thread's for imap)
    next_reply(): pops results  <--ready--------  deliver(): a worker's reply
                  waits on cond                   lost():    a worker died
    cancel(kill)  -------------------------------> drops the job, kills its workers

The input is read lazily: a ``list``, ``tuple`` or ``range`` is sliced in place when
a chunk is cut; any other iterable is pulled into ``buf``: by the caller's thread for
``map``, in batches that grow while the items come fast; by a feeder thread of the
call's own for ``imap`` and ``unordered_imap``, each item handed over as it comes (so
their results reach the caller while the input waits for its next item, even when
that item waits for results). Either way at most ``window`` tasks are taken and not
yet handed to the caller, so an endless generator works and memory stays flat however
slowly the caller consumes. Results are kept as the worker's bytes until the caller
takes them, and are deserialized in the caller's thread.

Ordered calls key replies by the index of their first task and hand them out in
order; unordered calls hand them out as they arrive. A failure (the task's exception,
or its worker's death) sits at its task's index: the caller first receives every
result before it, then the error.
"""

from __future__ import annotations

import contextvars
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ... import cerial
from .._errors import RemoteTraceback
from .._interrupts import interrupts_held
from . import _protocol as proto
from ._chunking import GUIDED_FLOOR, RAMP, TARGET_BYTES, ChunkSizer
from ._errors import PoolClosedError, PoolTimeoutError

__all__ = ("Chunk", "Job", "Reply", "decode", "take_next")

_SLICEABLE = (list, tuple, range)
# Work a call may have taken but not yet handed to its caller, in chunks per worker.
_WINDOW_CHUNKS = 4
_MIN_WINDOW = 64
# Chunks per worker when a job is cut evenly (Job.even).
EVEN_CHUNKS = 4
# A caller collecting a whole list from a sliceable input is woken once this many
# replies wait for it (or the last one came, or a failure): fewer thread wake-ups.
_NOTIFY_EVERY = 8
# Input items pulled from an iterator are handed to the dispatcher at least this often
# (seconds), and at once while it has none left: a fast input goes in batches (each
# hand-over costs the dispatcher a wake-up), a slow one item by item as it comes.
_HAND_OVER = 0.001
# The largest batch map pulls from a fast input in one go.
_MAX_STEP = 1024


class Chunk:
    """Consecutive tasks ``start ... start + n - 1`` of one job, sent as one message."""

    __slots__ = ("attempt", "id", "items", "job", "n", "nbytes", "resent", "sent_at", "start",
                 "track")

    _ids = itertools.count(1)

    def __init__(self, job: Job, start: int, items: Any, attempt: int = 0,
                 track: bool = False) -> None:
        self.job = job
        self.id = next(Chunk._ids)
        self.start = start
        self.items = items
        self.n = len(items)
        self.attempt = attempt
        self.track = track
        self.nbytes = 0  # size of its serialized arguments, once sent
        self.sent_at = 0.0  # time.monotonic() when it was sent
        self.resent = 0  # times sent again after the backend lost it (not a crash)

    def tail(self, offset: int, *, attempt: int | None = None) -> Chunk:
        """The tasks from *offset* (within this chunk) on, as a new chunk."""
        return Chunk(self.job, self.start + offset, self.items[offset:],
                     self.attempt if attempt is None else attempt, track=True)

    def head(self, count: int) -> Chunk:
        """The first *count* tasks, as a new chunk."""
        return Chunk(self.job, self.start, self.items[:count], self.attempt, track=True)

    @property
    def tasks(self) -> range:
        return range(self.start, self.start + self.n)


class Reply:
    """What came back for the tasks ``start ... start + n - 1``.

    ``kind`` is ``DONE`` (``meta``/``raws`` hold every result), ``FAILED`` (``meta`` holds
    the results before the failing task, its exception and traceback) or ``LOST``
    (``error`` says why the tasks produced nothing, e.g. their worker died).
    """

    __slots__ = ("error", "flags", "kind", "meta", "n", "raws", "start")

    LOST = 100

    def __init__(self, kind: int, start: int, n: int, flags: int = 0, meta: bytes = b"",
                 raws: list[bytes] | None = None, error: BaseException | None = None) -> None:
        self.kind = kind
        self.start = start
        self.n = n
        self.flags = flags
        self.meta = meta
        self.raws = raws
        self.error = error


def decode(reply: Reply) -> tuple[list[Any], BaseException | None]:
    """The results of *reply*, and the error that ends them (``None`` if none)."""
    kind = reply.kind
    if kind == proto.DONE:
        flags = reply.flags
        if flags & proto.FLAG_ALL_RAW:
            return list(reply.raws or ()), None
        values = _load(reply)
        if flags & proto.FLAG_MIXED_RAW:
            values, holes = values
            for position, raw in zip(holes, reply.raws or (), strict=True):
                values[position] = raw
        return values, None
    if kind == proto.FAILED:
        values, error, tb = _load(reply)
        if tb:
            error.__cause__ = RemoteTraceback(tb)
            error.__suppress_context__ = True
        if isinstance(error, cerial.SerializationError):  # (say, a result that cannot travel)
            error.add_note(f"in task {reply.start + len(values)} of the call")
        return values, error
    return [], reply.error


def _load(reply: Reply) -> Any:
    """The cerial part of *reply*; an error that cannot be loaded names its tasks."""
    try:
        return cerial.deserialize(reply.meta)
    except cerial.DeserializationError as exc:
        exc.add_note(f"while loading what a worker sent back for tasks {reply.start} to "
                     f"{reply.start + reply.n - 1} of the call")
        raise


def take_next(jobs: list[Job], first: int, limit: int) -> tuple[Chunk | None, int]:
    """The next chunk of at most *limit* tasks from *jobs*, trying them in turn from
    index *first* (round robin, so no call starves another), and the index to start
    from next time."""
    count = len(jobs)
    for i in range(count):
        index = (first + i) % count
        chunk = jobs[index].take(limit)
        if chunk is not None:
            return chunk, index + 1
    return None, first


class Job:
    """The shared state of one call; see the module docstring."""

    def __init__(
        self,
        *,
        lock: threading.Lock,
        wake: Callable[[], None],
        workers: int,
        fn_bytes: bytes,
        flags: int,
        iterable: Iterable[Any],
        ordered: bool,
        chunksize: int | None,
        windowed: bool,
        label: str,
        seconds: float | None = None,
    ) -> None:
        self.lock = lock
        self.cond = threading.Condition(lock)
        self.wake = wake
        self.workers = workers
        self.fn_bytes = fn_bytes
        self.fn_id = 0  # set by the backend
        self.flags = flags
        self.sizer = ChunkSizer()  # replaced by the backend's shared one for this function
        # Cut an input of known length into EVEN_CHUNKS equal chunks per worker (at most
        # the sizer's size) instead of ever smaller ones: for backends whose every
        # chunk costs milliseconds, which balance the chunks themselves (a cluster).
        self.even = False
        self.ordered = ordered
        self.chunksize = chunksize
        self.windowed = windowed
        self.label = label
        # A timeout bounds the whole call from here, the reading of its input included.
        self.seconds = seconds
        self.deadline = None if seconds is None else time.monotonic() + seconds

        self.seq: Any = None  # a list, tuple or range, sliced in place
        self.iterator: Iterator[Any] | None = None
        self.buf: list[Any] = []  # items pulled from the iterator, from buf_off on
        self.buf_off = 0
        self.total: int | None = None
        if type(iterable) in _SLICEABLE:
            self.seq = iterable
            self.total = len(iterable)  # type: ignore[arg-type]
        else:
            self.iterator = iter(iterable)  # None once exhausted
            try:
                self.total = len(iterable)  # type: ignore[arg-type]
            except TypeError:
                self.total = None
        self.input_error: BaseException | None = None
        # imap / unordered_imap pull an iterator in a thread of their own (see feed()),
        # which waits on *room* while the window is full.
        self.feeding = False
        self.room = threading.Condition(lock)

        self.taken = 0  # fresh tasks cut into chunks (the index of the next one)
        self.consumed = 0  # tasks whose results the caller has received
        self.inflight = 0  # tasks sitting in workers
        self.requeue: deque[Chunk] = deque()
        self.ready: Any = {} if ordered else deque()
        self.next_start = 0  # ordered: the index of the next reply to hand out
        self.failed_at: int | None = None  # lowest index of a failure seen
        self.ramp = 1
        self.starved = False  # take() refused because the window was full
        self.sent_items = 0  # tasks sent, and the bytes of their arguments
        self.sent_bytes = 0
        self.closed = False  # the caller is done with it (finished, failed or cancelled)
        self.kill = False  # cancelled: kill the workers running its tasks
        self.fatal: BaseException | None = None  # the pool cannot finish it

    # ------------------------------------------------------- dispatcher side (lock held)

    def start(self, sizer: ChunkSizer) -> None:
        self.sizer = sizer
        if sizer.known and self.chunksize is None:
            self.ramp = max(1, sizer.suggest() // RAMP)

    def _chunk_size(self) -> int:
        if self.chunksize is not None:
            return self.chunksize
        suggested = self.sizer.suggest()
        size = min(suggested, self.ramp)
        if self.total is not None:
            if self.even:
                return min(size, max(1, -(-self.total // (EVEN_CHUNKS * self.workers))))
            left = self.total - self.taken
            guided = -(-left // (2 * self.workers))
            size = min(size, max(guided, suggested // GUIDED_FLOOR, 1))
        return size

    def window(self) -> int:
        """Tasks the call may have taken and not yet handed to its caller: a few chunks
        per worker, and a few megabytes of this call's arguments."""
        chunks = self.workers * _WINDOW_CHUNKS
        size = self.chunksize or min(self.sizer.suggest(), self.ramp)
        window = max(_MIN_WINDOW, chunks * size)
        if self.sent_items:
            fit = int(chunks * TARGET_BYTES * self.sent_items / max(self.sent_bytes, 1))
            window = min(window, max(fit, chunks))
        elif self.iterator is not None:
            window = min(window, _MIN_WINDOW + chunks)  # size of the items not known yet
        return window

    def take(self, limit: int) -> Chunk | None:
        """The next chunk for a worker that may take at most *limit* tasks, or None."""
        if self.closed:
            return None
        while self.requeue:
            chunk = self.requeue.popleft()
            if self.failed_at is not None and chunk.start > self.failed_at:
                continue  # beyond a failure: never needed
            if chunk.n > limit:
                self.requeue.appendleft(chunk.tail(limit))
                chunk = chunk.head(limit)
            self.inflight += chunk.n
            return chunk
        if self.failed_at is not None:
            return None
        size = min(self._chunk_size(), limit)
        if self.windowed:
            room = self.window() - (self.taken - self.consumed)
            if room <= 0:
                self.starved = True
                return None
            size = min(size, room)
        start = self.taken
        if self.seq is not None:
            size = min(size, self.total - start)  # type: ignore[operator]
            if size <= 0:
                return None
            items = self.seq[start:start + size]
        else:
            off = self.buf_off
            size = min(size, len(self.buf) - off)
            if size <= 0:
                return None
            items = self.buf[off:off + size]
            off += size
            if off >= 4096 and off * 2 >= len(self.buf):
                del self.buf[:off]
                off = 0
            self.buf_off = off
        self.taken = start + size
        self.inflight += size
        return Chunk(self, start, items)

    def deliver(self, chunk: Chunk, reply: Reply) -> None:
        """A worker's reply for *chunk* (already off its worker's in-flight list)."""
        self.inflight -= chunk.n
        if reply.kind == proto.DONE:
            self.ramp = max(self.ramp, chunk.n * RAMP)
        self._store(reply)

    def unsendable(self, chunk: Chunk) -> None:
        """Some argument of *chunk* cannot be serialized: that task fails with the error."""
        for offset, item in enumerate(chunk.items):
            try:
                cerial.serialize(item)
            except Exception as exc:
                exc.add_note(
                    f"while sending the argument of task {chunk.start + offset} to a pool worker")
                self.lost(chunk, exc, unsent_from=chunk.start + offset)
                return
        error = RuntimeError("the chunk's arguments could not be serialized together")
        self.lost(chunk, error)

    def requeue_chunk(self, chunk: Chunk) -> None:
        """*chunk* never ran to the end (its worker was lost): run it again."""
        self.inflight -= chunk.n
        if not self.closed:
            self.requeue.append(chunk)

    def lost(self, chunk: Chunk, error: BaseException, unsent_from: int | None = None) -> None:
        """The tasks of *chunk* failed with *error* (their worker died, say): the call
        fails at the chunk's first task, whose result never came.

        *unsent_from*: the chunk was never sent, because the argument of this task
        cannot be: the call fails there, and the tasks before it (which never ran) are
        sent again when the call is ordered.
        """
        self.inflight -= chunk.n
        at = chunk.start if unsent_from is None else unsent_from
        offset = at - chunk.start
        if self.ordered and offset > 0 and not self.closed:
            self.requeue.append(chunk.head(offset))
        self._store(Reply(Reply.LOST, at, chunk.n - offset, error=error))

    def _store(self, reply: Reply) -> None:
        if self.closed:
            return
        if reply.kind != proto.DONE:  # a failure: nothing after it is needed
            if self.failed_at is None or reply.start < self.failed_at:
                self.failed_at = reply.start
        if self.ordered:
            failed_at = self.failed_at
            if failed_at is not None:
                if reply.start > failed_at:
                    return  # beyond a failure: the caller never gets that far
                for start in [s for s in self.ready if s > failed_at]:
                    del self.ready[start]
            self.ready[reply.start] = reply
        else:
            self.ready.append(reply)
        if (
            self.windowed
            or self.seq is None  # the caller pulls the input: wake it to pull more
            or self.failed_at is not None
            or len(self.ready) >= _NOTIFY_EVERY
            or (self.inflight == 0 and not self.requeue and self.taken >= self.total)  # type: ignore[operator]
        ):
            self.cond.notify()

    def fail(self, error: BaseException) -> None:
        """The pool cannot finish this call (terminated, broken)."""
        if self.fatal is None:
            self.fatal = error
        self.iterator = None  # nothing more is pulled from the input
        self.cond.notify_all()
        self.room.notify_all()

    # ------------------------------------------------------------ caller side

    def _complete(self) -> bool:
        if self.iterator is not None or len(self.buf) > self.buf_off:
            return False
        if self.seq is not None and self.taken < self.total:  # type: ignore[operator]
            return False
        return self.consumed >= self.taken and not self.requeue

    def _wants_input(self) -> int:
        """How many items to pull from the input iterator now (0: none)."""
        if self.iterator is None:
            return 0
        buffered = len(self.buf) - self.buf_off
        window = self.window()
        room = window - buffered
        if self.windowed:
            room -= self.taken - self.consumed
        if room <= 0 or (buffered and room * 4 < window):
            return 0  # pull in batches: each pull costs the dispatcher a wake-up
        return room

    def refill(self, room: int) -> None:
        """Pull up to *room* items from the input iterator (``map``: in the caller's
        thread), handing them over as they come: in growing batches while they come
        fast, else one by one (see ``_HAND_OVER``)."""
        iterator = self.iterator
        if iterator is None:
            return
        error = None
        items: list[Any] = []
        pulled = 0  # handed over
        step = 1
        clock = time.monotonic
        since = clock()
        deadline = self.deadline
        try:
            while pulled + len(items) < room:
                want = min(step, room - pulled - len(items))
                begun = clock()
                had = len(items)
                items.extend(itertools.islice(iterator, want))  # keeps what came before an error
                if len(items) - had < want:
                    break  # the end of the input
                now = clock()
                step = min(step * 2, _MAX_STEP) if now - begun < _HAND_OVER else 1
                late = deadline is not None and now >= deadline
                if now - since >= _HAND_OVER or self.buf_off >= len(self.buf) or late:
                    if not self._hand_over(iterator, items, False, None) or late:
                        return  # the call ended meanwhile, or its time is up (next_reply says so)
                    pulled += len(items)
                    items = []
                    since = now
        except Exception as exc:  # the caller's own iterator failed: after the results before
            error = exc
        except BaseException:  # Ctrl-C, SystemExit: now (the caller then cancels the call)
            with self.cond:
                if self.iterator is iterator:
                    self.iterator = None
            raise
        self._hand_over(iterator, items, error is not None or pulled + len(items) < room, error)

    def _hand_over(self, iterator: Iterator[Any], items: list[Any], ended: bool,
                   error: BaseException | None) -> bool:
        """Give *items* pulled from *iterator* to the dispatcher; *ended*: the iterator
        is exhausted (or failed with *error*). False if the call no longer reads it."""
        with self.cond:
            if self.iterator is not iterator:
                return False
            if items:
                self.buf.extend(items)
            if ended:
                self.iterator = None
                self.input_error = error
                self.cond.notify_all()  # a caller waiting for the end of the input
        if items:
            self.wake()
        return True

    def feed(self) -> None:
        """imap / unordered_imap: pull the input iterator in a thread of its own, so
        that results reach the caller while the input waits for its next item (a slow
        stream, or an input that waits for results), as far as the window allows."""
        self.feeding = True
        context = contextvars.copy_context()  # the input sees the caller's context variables
        thread = threading.Thread(target=context.run, args=(self._feed,),
                                  name=f"suitkaise-pool-{self.label}-input", daemon=True)
        thread.start()

    def _feed(self) -> None:
        """The feeder thread: each item is handed over as soon as it comes (an input
        may wait for the results of the items before it: none may wait here)."""
        iterator = self.iterator
        if iterator is None:
            return
        cond = self.cond
        lock = self.lock
        buf = self.buf
        try:
            while True:
                with cond:
                    while True:
                        if self.iterator is not iterator or self.closed or self.fatal is not None:
                            return
                        room = self._wants_input()
                        if room:
                            break
                        self.room.wait()
                count = 0
                for item in itertools.islice(iterator, room):
                    with lock:  # (the lock itself: cheaper to enter than the condition)
                        if self.iterator is not iterator:
                            return
                        hungry = self.buf_off >= len(buf)  # the dispatcher has no input left
                        buf.append(item)
                    if hungry:
                        self.wake()
                    count += 1
                if count < room:
                    self._hand_over(iterator, [], True, None)
                    return
        except Exception as error:  # the input failed: after the results before
            self._hand_over(iterator, [], True, error)
        except BaseException as error:  # (Ctrl-C or SystemExit raised by the input itself)
            with cond:
                if self.fatal is None:
                    self.fatal = error
                self.cond.notify_all()

    def next_reply(self) -> Reply | None:
        """The next reply for the caller, waiting for it; None once every task is done.

        Raises the input iterator's error where it happened, the pool's fatal error,
        or :class:`PoolTimeoutError` once the call's time is up (and work is left).
        """
        deadline = self.deadline
        while True:
            room = 0
            wake = False
            with self.cond:
                while True:
                    if (deadline is not None and time.monotonic() >= deadline
                            and not self._complete()):
                        raise self._timed_out()
                    if self.closed:
                        raise self.fatal or PoolClosedError(
                            f"this {self.label}() call was cancelled while it waited")
                    reply = self._pop()
                    if reply is not None:
                        self.consumed += reply.n
                        if self.starved:
                            self.starved = False
                            wake = True
                        if self.feeding:
                            self.room.notify()
                        break
                    if self.fatal is not None:
                        raise self.fatal
                    room = 0 if self.feeding else self._wants_input()
                    if room:
                        break
                    if self._complete():
                        if self.input_error is not None:
                            error, self.input_error = self.input_error, None
                            raise error
                        return None
                    if deadline is None:
                        self.cond.wait()
                    else:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise self._timed_out()
                        self.cond.wait(left)
            if wake:
                self.wake()
            if reply is not None:
                return reply
            self.refill(room)

    def _timed_out(self) -> PoolTimeoutError:
        seconds = self.seconds
        return PoolTimeoutError(
            f"{self.label}() did not finish within {seconds}s ({self.consumed} results "
            "were ready); the workers still running its tasks were stopped",
            seconds=seconds,
            done=self.consumed,
        )

    def _pop(self) -> Reply | None:
        ready = self.ready
        if not ready:
            return None
        if self.ordered:
            reply = ready.pop(self.next_start, None)
            if reply is not None:
                self.next_start += reply.n
            return reply
        return ready.popleft()

    def prefill(self) -> None:
        """Start pulling the input now, so work starts before the first ``next()``: an
        iterator of imap / unordered_imap in its own thread (:meth:`feed`), else the
        first batch, here."""
        if self.windowed and self.iterator is not None:
            self.feed()
            return
        with self.cond:
            room = self._wants_input()
        if room:
            self.refill(room)

    def cancel(self, *, kill: bool, error: BaseException | None = None) -> None:
        """The caller is done: hand out nothing more; with *kill*, stop its running tasks.
        A thread still waiting for a reply raises *error* (or :class:`PoolClosedError`).

        (A Ctrl-C may cut the wake-up that carries a kill short: a job marked killed
        wakes the dispatcher at every cancel, so the next one carries it.)"""
        with interrupts_held(), self.cond:
            if error is not None and self.fatal is None and not self.closed:
                self.fatal = error
            self.cond.notify_all()
            again = self.closed and not (kill and not self.kill)
            if not again:
                self.closed = True
                kill = kill and self.inflight > 0
                self.kill = self.kill or kill
                self.ready.clear()
                self.requeue.clear()
                self.iterator = None
                self.buf.clear()  # (in place: a feeder thread may hold it)
                self.buf_off = 0
                self.room.notify_all()
            killed = self.kill
        if not again or killed:
            self.wake()  # drop the job, kill its workers, or let a closing pool finish
