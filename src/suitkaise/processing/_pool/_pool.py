"""``Pool``: the front end. Checks the call, builds its job, hands out the results.

::

    pool.map(fn, data)              pool.imap(...) / unordered_imap(...)
      |  serialize fn once (cerial)   |
      v                               v
    Job(fn bytes, input) --submit--> backend (dispatcher thread, workers)
      |                                |
      | next_reply(): wait, pull input | replies
      v                                |
    decode (cerial, in this thread) <--+
      |
      +--> list (map) / iterator (imap) / Future (.background) / awaitable (.asynced)

Everything backend-specific lives behind :class:`~.backends.Backend`; this module only
deals with jobs and replies.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any

from ... import cerial
from ...sk import sk
from ...sk._runners import start_in_thread
from .._context import MISSING_MAIN_GUARD_EXIT, bootstrapping
from . import _cleanup
from . import _protocol as proto
from ._errors import PoolClosedError, PoolTimeoutError
from ._fnbytes import function_bytes
from ._job import Job, decode
from ._progress import Bar, check_progress, open_bar
from .backends import make_backend

__all__ = ("Pool",)

_MODIFIERS = ("timeout", "background", "asynced")


def _check_workers(workers: object) -> int:
    if workers is None:
        return os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise TypeError(f"workers must be a whole number or None, got {workers!r}")
    if workers < 1:
        raise ValueError(f"workers must be 1 or more, got {workers}")
    return workers


def _check_count(value: object, what: str, *, minimum: int = 1) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be a whole number or None, got {value!r}")
    if value < minimum:
        raise ValueError(f"{what} must be {minimum} or more, got {value}")
    return value


def _in_thread(results: _Results, work: Callable[[], Any]) -> Future[Any]:
    """Run *work* in a new daemon thread; its outcome goes to the returned Future.

    Cancelling the Future before the thread starts cancels the call too.
    """
    future = start_in_thread(work, (), {}, name=f"Pool.{results.job.label}")

    def cancelled(f: Future[Any]) -> None:
        if f.cancelled():
            results.end(kill=True)

    future.add_done_callback(cancelled)
    return future


async def _await_job(results: _Results, work: Callable[[], Any]) -> Any:
    import asyncio

    future = _in_thread(results, work)
    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        results.end(kill=True)
        raise


# The modifiers of map / imap / unordered_imap (see sk: "Declaring modifiers in library
# code"). timeout keeps the call's own shape (a list, or an iterator); background and
# asynced collect every result into a list.


def _timeout(kind: str) -> Callable[[Pool, float | None], Callable[..., Any]]:
    def timeout(self: Pool, seconds: float | None) -> Callable[..., Any]:
        def call(fn: Any, iterable: Iterable[Any], /, *, chunksize: int | None = None,
                 progress: bool | str | None = None) -> Any:
            results = self._start(kind, fn, iterable, chunksize, kind != "map", progress,
                                  seconds=seconds)
            if kind == "map":
                return self._collect(results)
            return self._iterate(results)
        return call
    return timeout


def _background(kind: str) -> Callable[[Pool], Callable[..., Future[list[Any]]]]:
    def background(self: Pool) -> Callable[..., Future[list[Any]]]:
        def call(fn: Any, iterable: Iterable[Any], /, *, chunksize: int | None = None,
                 progress: bool | str | None = None) -> Future[list[Any]]:
            # (the input is read in the thread too: the Future comes back at once)
            results = self._start(kind, fn, iterable, chunksize, False, progress, prefill=False)
            return _in_thread(results, lambda: self._collect(results))
        return call
    return background


def _asynced(kind: str) -> Callable[[Pool], Callable[..., Any]]:
    def asynced(self: Pool) -> Callable[..., Any]:
        async def call(fn: Any, iterable: Iterable[Any], /, *, chunksize: int | None = None,
                       progress: bool | str | None = None) -> list[Any]:
            # (the input is read in the thread too: the event loop never waits for it)
            results = self._start(kind, fn, iterable, chunksize, False, progress, prefill=False)
            result: list[Any] = await _await_job(results, lambda: self._collect(results))
            return result
        return call
    return asynced


class Pool:
    """Worker processes that run a function (or an ``Skprocess`` class) on many inputs.

    ``workers`` processes start at once and stay for the pool's life, reused by every
    call. Functions, lambdas and closures travel by value with cerial; tasks are sent
    in chunks whose size adapts to how long a task takes and how large its result is.

    - ``map(fn, data)``: the list of results, in input order.
    - ``imap(fn, data)``: an iterator of results in input order, as they come.
    - ``unordered_imap(fn, data)``: an iterator of results in completion order.
    - ``star()``: the same calls, unpacking each tuple item into arguments.
    - Each call also has ``.timeout(s)``, ``.background()`` and ``.asynced()``:
      ``pool.map.timeout(30)(fn, data)``.

    A task's exception is raised in the caller as its own type, with the worker's
    traceback as ``__cause__``; the pool stays usable. A worker that dies mid-task fails
    that task with :class:`WorkerDiedError` (or re-runs it, with ``crash_retries``) and is
    replaced.

    ``with Pool() as pool:`` closes and joins the pool at the end of the block (or
    terminates it, when the block raised); an ``imap`` iterator not read to its end by
    then is ended (reading on raises :class:`PoolClosedError`).

    Arguments:

    - ``workers``: number of processes (``None``: ``os.cpu_count()``).
    - ``chunksize``: fixed tasks per chunk for every call (default: adaptive).
    - ``max_tasks_per_worker``: replace a worker after it ran this many tasks.
    - ``crash_retries``: how many times a task whose worker died is run again (0). The
      tasks of its chunk that had finished run again too (their results died with the
      worker): with retries, tasks should be safe to repeat.
    - ``progress``: ``False`` (default), ``True`` (a tqdm bar when stderr is a
      terminal) or ``"always"``; each call may override it.
    - ``start_method``: ``"fork"``, ``"forkserver"`` or ``"spawn"`` (default: the
      library's choice, see ``processing.get_start_method()``).
    - ``cluster``: run the tasks on a Dask cluster instead of local processes: a
      scheduler address (``"tcp://10.0.0.5:8786"``), a ``distributed.Client`` or a
      Dask cluster object. ``workers`` then caps the tasks running at once (default:
      every thread of the cluster). Every call, modifier and error works the same.

    Example::

        >>> from suitkaise.processing._pool import Pool
        >>> with Pool(workers=2) as pool:
        ...     pool.map(lambda x: x * x, range(5))
        ...     pool.star().map(pow, [(2, 3), (3, 2)])
        ...     sorted(pool.unordered_imap(abs, [-1, -2]))
        [0, 1, 4, 9, 16]
        [8, 9]
        [1, 2]
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        chunksize: int | None = None,
        max_tasks_per_worker: int | None = None,
        crash_retries: int = 0,
        progress: bool | str = False,
        start_method: str | None = None,
        cluster: Any = None,
    ) -> None:
        if bootstrapping() and threading.current_thread() is threading.main_thread():
            # A spawn/forkserver worker is importing a main script that makes a pool
            # unguarded; leave quietly, the parent explains (MISSING_MAIN_GUARD).
            os._exit(MISSING_MAIN_GUARD_EXIT)
        count = _check_workers(workers)
        self._chunksize = _check_count(chunksize, "chunksize")
        max_tasks = _check_count(max_tasks_per_worker, "max_tasks_per_worker")
        retries = _check_count(crash_retries, "crash_retries", minimum=0) or 0
        self._progress = check_progress(progress)
        self._pid = os.getpid()
        self._star = False
        self._owner: Pool | None = None
        if cluster is not None:
            local_only = (("start_method", start_method), ("max_tasks_per_worker", max_tasks))
            for name, value in local_only:
                if value is not None:
                    raise ValueError(
                        f"{name} is for local workers; a cluster's workers are started and "
                        "recycled by the cluster (see `dask worker --help`: --lifetime)"
                    )
        backend = None
        try:
            if cluster is None:
                backend = make_backend(
                    "local",
                    workers=count,
                    start_method=start_method,
                    max_tasks_per_worker=max_tasks,
                    crash_retries=retries,
                )
            else:
                backend = make_backend(
                    "dask", cluster=cluster, workers=None if workers is None else count,
                    crash_retries=retries,
                )
            self._backend = backend
            self._finalizer = weakref.finalize(self, _release, backend)
        except BaseException:  # (a Ctrl-C before the finalizer exists: nothing would stop it)
            if backend is not None:
                backend.terminate()
            raise
        _cleanup.watch_exit()
        _cleanup.ready()
        # The imap / unordered_imap calls whose iterators are still open (a with block
        # ends them; see __exit__). Shared by star() views (a copy of this __dict__).
        self._iterating: weakref.WeakSet[Job] = weakref.WeakSet()

    # ------------------------------------------------------------------ info

    @property
    def workers(self) -> int:
        """How many worker processes the pool keeps (on a cluster: how many tasks may
        run at once, which may follow the cluster's size)."""
        return self._backend.workers

    @property
    def state(self) -> str:
        """``"running"``, ``"closing"``, ``"closed"``, ``"terminated"`` or ``"broken"``."""
        return self._backend.state

    @property
    def worker_pids(self) -> list[int]:
        """The process ids of the current workers."""
        return self._backend.worker_pids

    def __repr__(self) -> str:
        star = ".star()" if self._star else ""
        return f"<Pool{star} workers={self.workers} {self.state}>"

    def __reduce__(self) -> Any:
        raise TypeError("a Pool cannot be sent to another process; create one where it is used")

    # ------------------------------------------------------------------ star

    def star(self) -> Pool:
        """The same pool, but each tuple item is unpacked into the task's arguments.

        ``pool.star().map(fn, [(1, 2), (3, 4)])`` calls ``fn(1, 2)`` and ``fn(3, 4)``;
        an item that is not a tuple is passed as one argument. For an ``Skprocess``
        class, the tuple holds the arguments of its ``__init__``.

        Example::

            >>> from suitkaise.processing._pool import Pool
            >>> with Pool(1) as pool:
            ...     pool.star().map(max, [(1, 5), (7, 2)])
            [5, 7]
        """
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._star = True
        view._owner = self._owner or self  # keeps the pool (and its finalizer) alive
        view.__dict__.pop("_finalizer", None)  # (a view of a view has none)
        return view

    # -------------------------------------------------------------- the calls

    @sk(supported=_MODIFIERS, timeout=_timeout("map"), background=_background("map"),
        asynced=_asynced("map"))
    def map(self, fn: Callable[..., Any] | type, iterable: Iterable[Any], /, *,
            chunksize: int | None = None, progress: bool | str | None = None) -> list[Any]:
        """Run *fn* on every item of *iterable*; return the results in input order.

        *fn* may be any function (lambdas and closures too) or an ``Skprocess`` class
        (each item is the argument of its ``__init__``; the result is what its
        ``__result__`` returned). Raises the first failing task's exception (in input
        order) as its own type, with the worker's traceback as ``__cause__``.

        ``chunksize`` fixes the tasks per chunk for this call; ``progress`` overrides
        the pool's progress bar setting.

        Modifiers: ``map.timeout(s)(fn, data)`` raises :class:`PoolTimeoutError` (a
        ``TimeoutError``) after *s* seconds and stops the workers still running its
        tasks; ``map.background()(fn, data)`` returns a ``Future``;
        ``await map.asynced()(fn, data)`` waits without blocking the event loop.
        """
        return self._collect(self._start("map", fn, iterable, chunksize, False, progress))

    @sk(supported=_MODIFIERS, timeout=_timeout("imap"), background=_background("imap"),
        asynced=_asynced("imap"))
    def imap(self, fn: Callable[..., Any] | type, iterable: Iterable[Any], /, *,
             chunksize: int | None = None, progress: bool | str | None = None) -> Iterator[Any]:
        """Like :meth:`map`, but return an iterator that yields each result, in input
        order, as soon as it and the ones before it are ready.

        The input is read lazily and only a bounded amount of work is ahead of the
        caller, so an endless generator works. A generator or iterator is read in a
        thread of the call's own (as ``multiprocessing.Pool.imap`` does, with the
        caller's context variables), so results come while it waits for its next item
        (a slow stream; an input that waits for results). An input bound to its thread,
        such as a ``sqlite3`` cursor, cannot be read there: pass ``list(cursor)`` or
        use :meth:`map`, which reads its input in the calling thread. A thread blocked
        in the input when the iterator is dropped stays blocked until the input
        yields.

        A failed task's exception is raised in its place and ends the iteration, as
        with ``concurrent.futures``' ``Executor.map`` (``multiprocessing.Pool.imap``
        would go on to the next results): no more tasks are handed out, and those
        already handed out finish with their results dropped. Modifiers:
        ``imap.timeout(s)`` (the whole iteration must end within *s* seconds of the call),
        ``imap.background()`` (a ``Future`` of the list of results),
        ``imap.asynced()`` (an awaitable of the list).
        """
        return self._iterate(self._start("imap", fn, iterable, chunksize, True, progress))

    @sk(supported=_MODIFIERS, timeout=_timeout("unordered_imap"),
        background=_background("unordered_imap"), asynced=_asynced("unordered_imap"))
    def unordered_imap(self, fn: Callable[..., Any] | type, iterable: Iterable[Any], /, *,
                       chunksize: int | None = None,
                       progress: bool | str | None = None) -> Iterator[Any]:
        """Like :meth:`imap`, but yield each result as soon as it is ready, in the
        order the tasks finish. The fastest way to get results.

        Modifiers as for :meth:`imap`; ``.background()`` and ``.asynced()`` give the
        list of results in completion order.
        """
        return self._iterate(self._start("unordered_imap", fn, iterable, chunksize, True,
                                         progress))

    # ------------------------------------------------------------ machinery

    def _start(self, kind: str, fn: Any, iterable: Iterable[Any], chunksize: int | None,
               windowed: bool, progress: bool | str | None, *, seconds: float | None = None,
               prefill: bool = True) -> _Results:
        """Submit a call; *seconds* bounds all of it (from now); *prefill*: start
        reading its input here (else the thread that collects its results does).

        Its results object exists before the call is submitted: from then on, an
        interrupt anywhere (even before the caller holds it) ends the call, here or
        when the object is collected."""
        if os.getpid() != self._pid:
            raise PoolClosedError(
                f"this Pool belongs to process {self._pid}; a process that inherited it "
                "cannot use it (create a Pool in this process instead)"
            )
        fn_bytes, flags = self._task(kind, fn)
        backend = self._backend
        job = Job(
            lock=backend.lock,
            wake=backend.wake,
            workers=backend.workers,
            fn_bytes=fn_bytes,
            flags=flags,
            iterable=iterable,
            ordered=kind != "unordered_imap",
            chunksize=_check_count(chunksize, "chunksize") or self._chunksize,
            windowed=windowed,
            label=kind,
            seconds=seconds,
        )
        choice = self._progress if progress is None else check_progress(progress)
        results = _Results(job, Bar())
        try:
            backend.submit(job)  # (a Ctrl-C held back in there is raised as it returns)
            results.bar = open_bar(choice, job.total, job.label)  # (a refused call shows none)
            if prefill:
                job.prefill()
        except KeyboardInterrupt:
            results.end(kill=True)  # as while waiting for results: its running tasks stop
            raise
        except BaseException:
            results.end()
            raise
        return results

    def _task(self, kind: str, fn: Any) -> tuple[bytes, int]:
        flags = proto.FLAG_STAR if self._star else 0
        if isinstance(fn, type) and _is_skprocess(fn):
            if not callable(getattr(fn, "__run__", None)):
                raise TypeError(
                    f"{fn.__qualname__} must define __run__(self) to run in a Pool "
                    "(it is the one lifecycle method that is required)"
                )
            flags |= proto.FLAG_SKPROCESS
        elif not callable(fn):
            if _is_skprocess(type(fn)):
                raise TypeError(f"{kind}() takes an Skprocess class, not an instance: pass "
                                f"{type(fn).__qualname__} itself; each item is the argument "
                                "of its __init__")
            raise TypeError(f"{kind}() needs a function or an Skprocess class, got "
                            f"{type(fn).__name__}: {fn!r}")
        try:
            return function_bytes(fn), flags
        except cerial.SerializationError as exc:
            name = getattr(fn, "__qualname__", type(fn).__qualname__)
            exc.add_note(f"while sending {name} to the pool's workers in {kind}()")
            raise

    def _collect(self, results: _Results) -> list[Any]:
        out: list[Any] = []
        try:
            while (values := results.next_values()) is not None:
                out.extend(values)
        except KeyboardInterrupt:
            results.end(kill=True)  # also when it lands here, between two replies
            raise
        finally:
            results.end()
        return out

    def _iterate(self, results: _Results) -> Iterator[Any]:
        self._iterating.add(results.job)
        each = _each(results, self)
        next(each)  # started: its close() then clears its frame (and drops *results*)
        return each

    # ------------------------------------------------------------- lifetime

    def close(self) -> None:
        """Take no new work; the workers stop once the submitted calls are done."""
        self._backend.close()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the workers to stop, after :meth:`close` or :meth:`terminate`.

        Returns ``False`` if *timeout* seconds passed first. Raises ``ValueError`` if the
        pool is still running. An ``imap`` whose iterator nobody reads cannot finish
        (it takes its input as its results are read): read it to its end, drop it, or
        leave the pool's ``with`` block, which ends it.
        """
        if timeout is not None and (isinstance(timeout, bool)
                                    or not isinstance(timeout, (int, float))):
            raise TypeError(f"join() timeout must be a number of seconds or None, got "
                            f"{type(timeout).__name__}: {timeout!r}")
        return self._backend.join(timeout)

    def terminate(self) -> None:
        """Stop every worker now; calls still waiting raise :class:`BrokenPoolError`."""
        self._backend.terminate()
        self._backend.join(5.0)

    def __enter__(self) -> Pool:
        with self._backend.lock:
            self._backend.check_open()  # (as multiprocessing.Pool: it takes no new work)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            # An imap iterator not read to its end by now never will be: end it (reading
            # on raises PoolClosedError), rather than wait forever for its reader.
            for job in list(self._iterating):
                job.cancel(kill=False, error=PoolClosedError(
                    f"the Pool's with block ended before this {job.label}() iterator was "
                    "read to its end; read the results inside the block"))
            self.close()
            self.join()
        else:  # leaving on an error: do not wait for work nobody will collect
            self.terminate()


class _Results:
    """The results of one call, a reply's worth at a time, in the order the call hands
    them out; the call's error comes after the results before it.

    The call ends (:meth:`end`: the job is cancelled, the progress bar closed) when
    its results run out or fail, or when the caller stops early. A caller that drops
    its iterator unfinished leaves this object to the garbage collector, which may
    run in any thread, one holding the pool's lock among them: the call is then ended
    by the cleanup thread (:mod:`._cleanup`), never by the collector itself.
    """

    __slots__ = ("_ended", "_error", "_pid", "bar", "job")

    def __init__(self, job: Job, bar: Bar) -> None:
        self._pid = os.getpid()
        self.job = job
        self.bar = bar
        self._error: BaseException | None = None
        self._ended = False  # (last: __del__ leaves a half-made object alone)

    def next_values(self) -> list[Any] | None:
        """The results of the next reply; ``None`` once there are no more. Raises the
        call's error (its timeout, Ctrl-C: its running tasks are stopped too)."""
        error = self._error
        if error is not None:
            self._error = None
            self.end()
            raise error
        if self._ended:
            return None
        try:
            reply = self.job.next_reply()
            values, self._error = ([], None) if reply is None else decode(reply)
        except (PoolTimeoutError, KeyboardInterrupt):
            self.end(kill=True)
            raise
        except BaseException:
            self.end()
            raise
        if reply is None:
            self.end()
            return None
        self.bar.update(len(values))
        return values

    def end(self, kill: bool = False) -> None:
        """The caller is done: cancel the job (with *kill*, stop its running tasks)."""
        if self._ended and not kill:
            return
        self.job.cancel(kill=kill)  # (before the flag: interrupted here, it is done again)
        self._ended = True
        self.bar.close()

    def __del__(self) -> None:
        if not getattr(self, "_ended", True) and self._pid == os.getpid():  # (not in a fork)
            _cleanup.later(self.end)


def _each(results: _Results, pool: Pool) -> Iterator[Any]:
    """The results one by one, after a first ``None`` that only starts the generator
    (a generator closed before it started keeps its frame, and with it *results*, on
    3.13). (*pool*: a pool that nobody else holds lives as long as its results do.) No
    ``finally`` here: a dropped iterator is closed by whatever thread collects it;
    *results* ends the call (see :class:`_Results`)."""
    yield None
    next_values = results.next_values
    while (values := next_values()) is not None:
        yield from values


def _release(backend: Any) -> None:
    """The pool was garbage-collected: stop its workers."""
    if backend.state == "running" and backend.pid == os.getpid():
        _cleanup.later(backend.terminate)


def _is_skprocess(cls: type) -> bool:
    from .._process import Skprocess

    try:
        return issubclass(cls, Skprocess)
    except TypeError:
        return False
