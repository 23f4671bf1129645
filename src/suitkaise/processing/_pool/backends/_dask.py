"""The Dask backend: a pool's chunks run as tasks on a Dask cluster.

::

    Pool(cluster=...)                    Dask scheduler              Dask workers
    -----------------                    --------------              ------------
    _fill(): job.take() -> chunk
      cerial args --client.map(run_batch, token, fn, args)->  -> run_batch (._remote)
    collector thread <-- as_completed <-- reply buffers ----------    run_chunk, _reply
    _settle(): job.deliver / job.lost / retry; then one _fill() per batch

The chunks are the same as the local pool's (cut by :meth:`Job.take`, sized by a
:class:`ChunkSizer` that asks for longer chunks, since each costs the cluster a few
milliseconds) and run through the same worker code, so ordering, errors, Skprocess
classes and star() behave the same. Only ``bytes`` cross Dask's own serializer: the
function and arguments as cerial bytes, the reply as the local workers' buffers.

Each chunk carries its function's bytes (a worker loads a function once and keeps
it under a token): a chunk then depends on no data that could die with a worker
(Dask cancels new tasks whose dependencies were lost). A function that drags
megabytes of closure data along costs that much per chunk.

Faults: Dask re-runs a task whose worker died on another worker, up to the
scheduler's ``allowed-failures`` setting, and then reports ``KilledWorker``; that
becomes a :class:`WorkerDiedError` for the chunk's tasks (or one more run per
``crash_retries``). A cancelled call (timeout, Ctrl-C) cancels its pending chunks and
restarts the workers with a nanny still running them (it starts fresh processes),
since a running thread cannot be stopped otherwise. Losing the scheduler, or a Client
closed under the pool, breaks the pool.

One collector thread per pool takes the finished chunks from
``distributed.as_completed``, settles them, and closes the pool's own Client once
the pool has stopped.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from .... import cerial
from ..._interrupts import interrupts_held
from .. import _protocol as proto
from .._chunking import SizerCache
from .._errors import BrokenPoolError, WorkerDiedError
from .._job import Chunk, Job, Reply, take_next
from .._recent import Recent
from ._base import CLOSING, RUNNING, Backend
from ._remote import run_batch

try:
    import distributed
except ImportError as exc:  # pragma: no cover - the tests install the cluster extra
    raise ImportError(
        "Pool(cluster=...) runs on Dask: install it with  pip install 'suitkaise[cluster]'"
    ) from exc

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = ("CONNECT_TIMEOUT", "DEPTH", "MAX_CHUNK", "TARGET_SECONDS", "DaskBackend", "connect")

#: Seconds to wait for the scheduler (and, with ``workers=None``, for a first worker).
CONNECT_TIMEOUT = 10.0
#: Chunks in flight per worker thread: one running, the next ones on their way (a
#: chunk's trip through the scheduler takes tens of milliseconds). With the job's even
#: chunks (four per worker) a call of known length goes out at once.
DEPTH = 4
#: Worker seconds one chunk should take, and the most tasks in one: each chunk costs
#: the cluster milliseconds.
TARGET_SECONDS = 0.05
MAX_CHUNK = 1 << 20
_FUNCTIONS = 16  # task functions whose tokens are kept
_RESENDS = 3  # times a chunk the cluster cancelled by itself is sent again
_RECOUNT = 1.0  # seconds between two counts of the cluster's threads

_RUNNING, _CLOSING, _STOPPED = RUNNING, CLOSING, "stopped"


def connect(cluster: Any) -> tuple[Client, bool]:
    """A ``distributed.Client`` for *cluster*, and whether the pool owns it.

    *cluster* is a ``distributed.Client`` (used as it is, never closed by the pool), a
    scheduler address such as ``"tcp://10.0.0.5:8786"``, or a cluster object with a
    ``scheduler_address`` (``LocalCluster``, ...).
    """
    if isinstance(cluster, distributed.Client):
        if cluster.asynchronous:
            raise ValueError("the Dask Client given as cluster= is asynchronous; the Pool needs "
                             "a synchronous one (asynchronous=False)")
        if cluster.status not in ("running", "connecting", "newly-created"):
            raise ValueError(f"the Dask Client given as cluster= is {cluster.status}")
        return cluster, False
    if isinstance(cluster, str):
        address = cluster
    elif isinstance(getattr(cluster, "scheduler_address", None), str):
        address = cluster.scheduler_address
    else:
        raise TypeError(
            "cluster must be a Dask scheduler address such as 'tcp://127.0.0.1:8786', a "
            f"distributed.Client or a Dask cluster object, got {type(cluster).__name__}: "
            f"{cluster!r}"
        )
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConnectionError(
            f"cannot reach the Dask scheduler at {address!r} within {CONNECT_TIMEOUT:g}s "
            f"({type(exc).__name__}: {exc}); is `dask scheduler` running there, and is the "
            "address right?"
        ) from exc
    return client, True


class DaskBackend(Backend):
    """Runs a pool's chunks on the Dask cluster *cluster* (see :func:`connect`).

    *workers* caps the chunks running at once; ``None`` follows the cluster's thread
    count, read again at a call a second or more after the last count (a cluster may
    gain or lose workers).
    """

    def __init__(self, *, cluster: Any, workers: int | None, crash_retries: int = 0,
                 label: str = "suitkaise-pool") -> None:
        client, owned = connect(cluster)
        try:
            count = workers or _threads(client)
        except BaseException:
            if owned:
                client.close()
            raise
        self.workers = count
        self._follow_cluster = workers is None
        self._counted = time.monotonic()
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.label = label
        self.address: str = client.scheduler.address if client.scheduler else str(cluster)
        self._client = client
        self._owned = owned
        self._crash_retries = crash_retries
        self._jobs: list[Job] = []
        self._rr = 0
        self._running: dict[Any, tuple[Future, Chunk]] = {}
        # the name workers cache a task function under (its loaded copy)
        self._functions: Recent[bytes, str] = Recent(_FUNCTIONS, lambda fn: uuid.uuid4().hex)
        self._tokens: dict[Job, str] = {}
        self._sizers = SizerCache(_FUNCTIONS, TARGET_SECONDS, MAX_CHUNK)
        self._state = _RUNNING
        self._outcome = "closed"
        self._broken: BrokenPoolError | None = None
        self._stopped = threading.Event()
        self._has_work = threading.Condition(self.lock)
        self._completed = distributed.as_completed(loop=client.loop, with_results=True,
                                                   raise_errors=False)
        self._collector = threading.Thread(target=self._collect, name=f"{label}-dask-collector",
                                           daemon=True)
        self._collector.start()

    # ----------------------------------------------------------- callers' side

    @property
    def worker_pids(self) -> list[int]:
        return []  # the workers are the cluster's

    def submit(self, job: Job) -> None:
        now = time.monotonic()
        if self._follow_cluster and now - self._counted > _RECOUNT:
            # the cluster may have grown or shrunk since the last call (asking costs a
            # round trip to the scheduler, so not more than once a second)
            self._counted = now
            try:
                counts = self._client.nthreads()
            except Exception:
                counts = {}  # keep the last count; submitting tells whether the cluster is there
            if counts:
                self.workers = job.workers = sum(counts.values())
        # (SIGINT held: a Ctrl-C between taking a chunk and keeping its future would
        # leave that chunk, maybe another thread's, waited for forever; see _interrupts)
        with interrupts_held(), self.lock:
            self.check_open()
            sizer = self._sizers.get((job.fn_bytes, job.flags))
            job.start(sizer)
            job.even = True  # the scheduler balances the chunks; each costs it milliseconds
            if sizer.known:
                # A known function starts at full size: on a cluster each step of the
                # ramp costs a round trip of tens of milliseconds (Dask batches its
                # messages), and the even split still keeps the chunks balanced.
                job.ramp = sizer.suggest()
            self._tokens[job] = self._functions.get(job.fn_bytes)
            self._jobs.append(job)
            self._fill()
            self.check_open()  # sending may have found the client closed

    def wake(self) -> None:
        cancel: list[Future] = []
        restart: set[Any] = set()
        with interrupts_held(), self.lock:
            if self._state == _STOPPED:
                return
            self._drop_closed(cancel, restart)
            self._fill()
            self._maybe_finish()
        if cancel:
            self._cancel(cancel, restart)

    def close(self) -> None:
        with interrupts_held(), self.lock:
            if self._state == _RUNNING:
                self._state = _CLOSING
            self._maybe_finish()
        if self._stopped.is_set():
            self._release_client()

    def terminate(self) -> None:
        with interrupts_held(), self.lock:
            futures = self._stop("terminated", BrokenPoolError(
                "the Pool was terminated while this call was waiting for its results"))
        if futures:
            self._cancel(futures, set())
        self._release_client()

    def join(self, timeout: float | None = None) -> bool:
        if self._state == _RUNNING:
            raise ValueError("call close() or terminate() before join()")
        if not self._stopped.wait(timeout):
            return False
        self._release_client()
        return True

    # ------------------------------------------------------------ scheduling

    def _fill(self) -> None:
        """(Lock held.) Send chunks while the cluster has room for them, all in one
        message (each message costs the scheduler a graph update)."""
        if self._state == _STOPPED:
            return
        room = self.workers * DEPTH - len(self._running)
        batch: list[tuple[Chunk, bytes]] = []
        while len(batch) < room and self._jobs:
            chunk, self._rr = take_next(self._jobs, self._rr, 1 << 62)
            if chunk is None:
                break
            try:
                batch.append((chunk, cerial.serialize(chunk.items)))
            except Exception:
                chunk.job.unsendable(chunk)
        if batch:
            self._send(batch)

    def _send(self, batch: list[tuple[Chunk, bytes]]) -> None:
        now = time.monotonic()
        columns: list[list[Any]] = [[], [], [], [], [], []]
        for chunk, args in batch:
            job = chunk.job
            token = self._tokens[job]
            chunk.nbytes = len(args)
            chunk.sent_at = now
            job.sent_items += chunk.n
            job.sent_bytes += chunk.nbytes
            for column, value in zip(columns, (token, job.fn_bytes, args, job.flags, chunk.start,
                                               f"suitkaise-{job.label}-{uuid.uuid4().hex}"),
                                     strict=True):
                column.append(value)
        *arguments, keys = columns
        try:
            futures = self._client.map(run_batch, *arguments, key=keys, pure=False)
        except Exception as exc:  # the Client was closed (by its owner, or as the scheduler went)
            error = BrokenPoolError(f"cannot send work to the Dask cluster at {self.address}: "
                                    f"{type(exc).__name__}: {exc}")
            error.__cause__ = exc
            self._stop("broken", error)  # nothing of ours runs there any more
            return
        for future, (chunk, _) in zip(futures, batch, strict=True):
            self._running[future.key] = (future, chunk)
        self._completed.update(futures)
        self._has_work.notify()

    def _collect(self) -> None:
        """(Collector thread.) Settle every finished chunk; release an owned Client once
        the pool has stopped.

        ``as_completed(with_results=True)`` fetches each result on Dask's event loop as
        soon as its chunk is done, many at once: a fetch that waits (the worker holding
        the result died, and Dask redoes the chunk) holds up only its own chunk."""
        try:
            self._collect_until_stopped()
        except BaseException as exc:  # a bug here must not leave callers waiting forever
            error = BrokenPoolError(f"the Pool's collector thread failed: "
                                    f"{type(exc).__name__}: {exc}")
            error.__cause__ = exc
            with self.lock:
                self._stop("broken", error)
        self._release_client()

    def _collect_until_stopped(self) -> None:
        completed = self._completed
        while True:
            with self.lock:
                while not self._running and self._state != _STOPPED:
                    self._has_work.wait()
                if self._state == _STOPPED:
                    return
            try:
                batch = completed.next_batch(block=True)
            except StopIteration:
                continue
            cancel: list[Future] = []
            with self.lock:
                for future, result in batch:
                    cancel += self._settle(future, result)
                self._fill()
                self._maybe_finish()
            if cancel:
                self._cancel(cancel, set())

    def _settle(self, future: Future, result: Any) -> list[Future]:
        """(Lock held.) A chunk's task has ended; *result* is its reply buffers (a
        list), its error as ``(type, error, traceback)``, or a ``CancelledError``.
        Returns the futures to cancel (all of them, if the scheduler is gone)."""
        entry = self._running.pop(future.key, None)
        if entry is None:
            return []  # forgotten meanwhile (its call ended, or the pool stopped)
        chunk = entry[1]
        job = chunk.job
        if job.closed:
            job.inflight -= chunk.n  # nobody waits for these results
        elif isinstance(result, list):
            self._deliver(chunk, result)
        elif isinstance(result, tuple):
            self._failed(chunk, result[1])
        elif self._client.status != "running":  # cancelled as the scheduler went
            return self._stop("broken", BrokenPoolError(
                f"lost the Dask scheduler at {self.address} while tasks "
                f"{chunk.start}-{chunk.start + chunk.n - 1} of {job.label}() were running"))
        elif chunk.resent < _RESENDS:  # cancelled by the cluster (it lost track of the
            chunk.resent += 1          # task as a worker died, say): send it again
            job.requeue_chunk(chunk)
        else:
            job.lost(chunk, RuntimeError(
                f"the Dask cluster at {self.address} cancelled tasks "
                f"{chunk.start}-{chunk.start + chunk.n - 1} of {job.label}() "
                f"{_RESENDS + 1} times ({result})"))
        return []

    def _deliver(self, chunk: Chunk, buffers: list[bytes]) -> None:
        kind, flags, _, _, elapsed, meta_len, n_raw = proto.REPLY_HEAD.unpack_from(buffers[0])
        raws = buffers[2:2 + n_raw]
        job = chunk.job
        if kind == proto.DONE:
            moved = chunk.nbytes + meta_len + sum(map(len, raws))
            job.sizer.record(chunk.n, elapsed, moved)
        job.deliver(chunk, Reply(kind, chunk.start, chunk.n, flags, buffers[1], raws))

    def _failed(self, chunk: Chunk, error: BaseException) -> None:
        """The cluster could not run *chunk* (not the task's own error: that comes back
        as a reply)."""
        job = chunk.job
        if isinstance(error, distributed.KilledWorker):
            if chunk.attempt < self._crash_retries:
                job.inflight -= chunk.n
                job.requeue.append(Chunk(job, chunk.start, chunk.items, chunk.attempt + 1))
                return
            job.lost(chunk, self._died(chunk, error))
            return
        error.add_note(f"while the Dask cluster at {self.address} ran tasks "
                       f"{chunk.start}-{chunk.start + chunk.n - 1} of {job.label}()")
        job.lost(chunk, error)

    def _died(self, chunk: Chunk, error: BaseException) -> WorkerDiedError:
        worker = getattr(error, "last_worker", None)
        address = getattr(worker, "address", None)
        tried = getattr(error, "allowed_failures", 0) + 1
        attempts = ""
        if self._crash_retries:
            attempts = f" (attempt {chunk.attempt + 1} of {self._crash_retries + 1})"
        died = WorkerDiedError(
            f"the Dask worker {address} died while running one of the tasks "
            f"{chunk.start}-{chunk.start + chunk.n - 1} of {chunk.job.label}(){attempts}; "
            f"Dask ran them on {tried} worker{'s' if tried > 1 else ''} and each one died (the "
            "scheduler's allowed-failures setting). A crash in native code, os._exit(), running "
            "out of memory or a signal from outside ends a worker like this, and so does a "
            "worker that cannot unpack the batch: is suitkaise installed on every worker?",
            tasks=chunk.tasks,
            address=address,
        )
        died.__cause__ = error
        return died

    def _drop_closed(self, cancel: list[Future], restart: set[Any]) -> None:
        """(Lock held.) Forget the calls their callers are done with; their chunks
        still on the cluster are cancelled (and restarted, for a call that gave up)."""
        if any(job.closed for job in self._jobs):
            for job in [job for job in self._jobs if job.closed]:
                self._tokens.pop(job, None)
            self._jobs = [job for job in self._jobs if not job.closed]
        for key, (future, chunk) in list(self._running.items()):
            job = chunk.job
            if job.closed:  # nobody waits for it: never wait for it either
                del self._running[key]
                job.inflight -= chunk.n
                cancel.append(future)
                if job.kill:
                    restart.add(key)

    def _cancel(self, futures: list[Future], stuck: set[Any]) -> None:
        """Cancel *futures*; restart the workers running the ones in *stuck*, if a
        nanny can restart them (a Dask thread cannot be stopped otherwise; restarting
        a worker also re-runs, elsewhere, whatever else it was running)."""
        client = self._client
        try:
            workers = []
            if stuck:
                nannies = {address for address, info in client.scheduler_info()["workers"].items()
                           if info.get("nanny")}
                workers = [address for address, keys in client.processing().items()
                           if address in nannies and stuck.intersection(keys)]
            client.cancel(futures, force=True)
            if workers:
                threading.Thread(target=self._restart, args=(workers,), daemon=True,
                                 name=f"{self.label}-restart").start()
        except Exception:
            pass  # the scheduler is gone: nothing runs there any more

    def _restart(self, workers: list[str]) -> None:
        try:
            self._client.restart_workers(workers, raise_for_error=False)
        except Exception:
            pass  # the scheduler is gone, or the restart failed: nothing more to do

    def _stop(self, outcome: str, error: BrokenPoolError) -> list[Future]:
        """(Lock held.) Stop now: fail every waiting call; the futures to cancel."""
        futures = [future for future, _ in self._running.values()]
        if self._state != _STOPPED:
            self._state = _STOPPED
            self._outcome = outcome
            if outcome == "broken":
                self._broken = error
            for job in self._jobs:
                job.fail(error.renewed())
            for _, chunk in self._running.values():
                chunk.job.fail(error.renewed())
        self._jobs = []
        self._tokens.clear()
        self._running.clear()
        self._completed.clear()
        self._stopped.set()
        self._has_work.notify_all()
        return futures

    def _maybe_finish(self) -> None:
        if self._state == _CLOSING and not self._jobs and not self._running:
            self._state = _STOPPED
            self._completed.clear()
            self._stopped.set()
            self._has_work.notify_all()

    def _release_client(self) -> None:
        with self.lock:
            self._functions.clear()
            owned, self._owned = self._owned, False
        if owned:
            try:
                self._client.close(timeout=CONNECT_TIMEOUT)
            except Exception:
                pass


def _threads(client: Client) -> int:
    """The cluster's worker threads; waits a little for a first worker."""
    counts = client.nthreads()
    if not counts:
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except Exception as exc:
            raise BrokenPoolError(
                f"the Dask cluster at {client.scheduler.address if client.scheduler else '?'} "
                f"has no workers (waited {CONNECT_TIMEOUT:g}s); start some with "
                "`dask worker <scheduler address>`"
            ) from exc
        counts = client.nthreads()
    return max(1, sum(counts.values()))

