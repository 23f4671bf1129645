"""The worker process: receive chunks, run them, send the results back.

::

    socket --TASK--> load fn (cached by id) --> deserialize the chunk's arguments
                     run fn on each argument  (Skprocess classes: their lifecycle)
    socket <--DONE-- results: cerial meta + large bytes results raw (no pickling)
    socket <-FAILED- results before the failing task, its exception, its traceback
    parent gone ----> SIGKILL from the kernel (Linux PR_SET_PDEATHSIG), or, where that
                      is not available (and under forkserver), EOF on the lifeline
                      seen by a watcher thread: os._exit at once

The main thread does all the work, so a task runs in the main thread (signals,
``SIGALRM`` timeouts of Skprocess lifecycles work as usual). Ctrl-C is ignored here:
it is the parent's to handle, and it stops the workers itself.

The function cache mirrors the parent's: both apply the same least-recently-used
rule to the same sequence of messages, so the parent always knows whether a worker
still holds a function and needs no acknowledgement.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import threading
import time
from collections import OrderedDict
from typing import Any

from ... import cerial
from .._context import mark_fork_safe
from .._deathsignal import set_death_signal
from .._forkclose import close_in_children
from . import _protocol as proto

__all__ = ("EXIT_ORPHANED", "FN_CACHE", "run_chunk", "worker_main")

#: How many task functions a worker keeps loaded.
FN_CACHE = 16
#: Exit status of a worker whose parent died.
EXIT_ORPHANED = 78
_RAW_SCAN = 16  # look for raw bytes results only in chunks this small


class _LoadFailure:
    """Stands in the function cache for a function that could not be loaded."""

    def __init__(self, error: BaseException, tb: str) -> None:
        self.error = error
        self.tb = tb


class _LifecycleFailure(Exception):
    """An Skprocess task ended with an error: carries the ProcessError and its traceback."""

    def __init__(self, error: BaseException, tb: str | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.tb = tb


# ------------------------------------------------------------------ running a chunk


def _format(exc: BaseException) -> str:
    import traceback  # only on errors: a worker starts faster without it

    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next  # start the traceback in the user's code
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _run_skprocess(cls: type, args: tuple[Any, ...]) -> Any:
    from .._lifecycle import internals
    from .._runner import Lifecycle

    proc = cls(*args)
    child = _PoolChild()
    internals(proc).child = child
    kind, value, error, tb = Lifecycle(proc, child).run()
    if kind == "error":
        raise _LifecycleFailure(error, tb)  # type: ignore[arg-type]
    return None if value is None else cerial.deserialize(value)


class _PoolChild:
    """The process-side ``stop``/``tell``/``listen`` of an Skprocess run by a pool."""

    def __init__(self) -> None:
        from .._runner import STATUS_SIZE

        self.status = [0.0] * STATUS_SIZE

    def stop(self) -> None:
        from .._runner import STOP

        self.status[STOP] = 1.0

    def tell(self, obj: Any) -> None:
        raise RuntimeError("tell() is not available to an Skprocess run by a Pool (there is no "
                           "parent-side handle to listen); return data from __result__ instead")

    def listen(self, timeout: float | None) -> Any:
        raise RuntimeError("listen() is not available to an Skprocess run by a Pool (nothing "
                           "can tell() it); pass data to __init__ instead")


def run_chunk(fn: Any, items: Any, flags: int, start: int,
              progress: Any) -> tuple[list[Any], BaseException | None, str | None]:
    """Run *fn* on every item; return ``(results, error, traceback)``.

    ``results`` holds the results of the tasks before the one that failed (all of them
    when ``error`` is None). With ``FLAG_TRACK`` the index of the running task is
    written to ``progress[0]`` first, so the parent can name it if the process dies.
    """
    out: list[Any] = []
    append = out.append
    star = flags & proto.FLAG_STAR
    try:
        if flags & proto.FLAG_SKPROCESS:
            for i, item in enumerate(items, start):
                progress[0] = i
                append(_run_skprocess(fn, item if star and isinstance(item, tuple) else (item,)))
        elif flags & proto.FLAG_TRACK:
            for i, item in enumerate(items, start):
                progress[0] = i
                append(fn(*item) if star and isinstance(item, tuple) else fn(item))
        elif star:
            out.extend(fn(*item) if isinstance(item, tuple) else fn(item) for item in items)
        else:
            out.extend(map(fn, items))  # C loop; on error ``out`` keeps what was done
    except _LifecycleFailure as failure:
        return out, failure.error, failure.tb
    except BaseException as exc:  # the task's own error, whatever it is, goes back
        if star and isinstance(exc, TypeError) and not isinstance(items[len(out)], tuple):
            exc.add_note(f"star() unpacks tuples only: this task's item (of type "
                         f"{type(items[len(out)]).__name__}) was passed as one argument")
        return out, exc, _format(exc)
    return out, None, None


# ----------------------------------------------------------------- encoding replies


def _encode_done(out: list[Any]) -> tuple[int, int, bytes, list[bytes]]:
    """``(kind, flags, meta, raws)`` of a chunk whose tasks all succeeded."""
    if len(out) <= _RAW_SCAN:
        holes = [i for i, r in enumerate(out) if type(r) is bytes and len(r) >= proto.RAW_MIN]
        if holes:
            raws = [out[i] for i in holes]
            if len(holes) == len(out):
                return proto.DONE, proto.FLAG_ALL_RAW, b"", raws
            rest = list(out)
            for i in holes:
                rest[i] = None
            return proto.DONE, proto.FLAG_MIXED_RAW, cerial.serialize((rest, holes)), raws
    return proto.DONE, 0, cerial.serialize(out), []


def _stand_in(exc: BaseException, reason: BaseException) -> BaseException:
    error = RuntimeError(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")
    error.add_note("(the task's exception could not be sent back as it was: "
                   f"{type(reason).__name__}: {reason})")
    return error


def _encode_failed(out: list[Any], exc: BaseException,
                   tb: str | None) -> tuple[int, int, bytes, list[Any], int]:
    try:
        meta = cerial.serialize((out, exc, tb))
    except Exception:
        out, exc, tb = _sendable(out, exc, tb)
        try:
            meta = cerial.serialize((out, exc, tb))
        except Exception as reason:
            out, exc = [], _stand_in(exc, reason)
            meta = cerial.serialize((out, exc, tb))
    return proto.FAILED, 0, meta, [], len(out)


def _sendable(out: list[Any], exc: BaseException,
              tb: str | None) -> tuple[list[Any], BaseException, str | None]:
    """Make a failure reply serializable: cut the results at the first one that cannot
    travel (it becomes the failure), or replace an exception that cannot travel."""
    try:
        cerial.serialize(out)
    except Exception:
        for i, result in enumerate(out):
            try:
                cerial.serialize(result)
            except Exception as reason:
                return out[:i], _result_error(i, result, reason), _format(reason)
    try:
        cerial.serialize(exc)
    except Exception as reason:
        exc = _stand_in(exc, reason)
    return out, exc, tb


def _result_error(offset: int, result: Any, reason: BaseException) -> BaseException:
    if isinstance(reason, cerial.SerializationError):
        error: BaseException = reason
    else:
        error = cerial.SerializationError(f"{type(reason).__name__}: {reason}")
    error.add_note(f"the result of the task (a {type(result).__qualname__}) could not be sent back "
                   "from its worker")
    return error


def _reply(chunk_id: int, out: list[Any], exc: BaseException | None, tb: str | None,
           began: float) -> list[Any]:
    """The buffers of the reply for one chunk (header, meta, raw results)."""
    if exc is None:
        try:
            kind, flags, meta, raws = _encode_done(out)
            count = len(out)
        except Exception:
            out, exc, tb = _sendable(out, RuntimeError("a result could not be serialized"), None)
    if exc is not None:
        kind, flags, meta, raws, count = _encode_failed(out, exc, tb)
    elapsed = time.perf_counter() - began
    head = proto.REPLY_HEAD.pack(kind, flags, count, chunk_id, elapsed, len(meta), len(raws))
    if raws:
        head += struct.pack(f"<{len(raws)}Q", *map(len, raws))
    return [head, meta, *raws]


# ------------------------------------------------------------------------ the loop


def _load(fn_bytes: bytes) -> Any:
    try:
        return cerial.deserialize(fn_bytes)
    except BaseException as exc:
        exc.add_note("while loading the task function in a pool worker")
        return _LoadFailure(exc, _format(exc))


def _serve(sock: socket.socket, progress: Any) -> None:
    fns: OrderedDict[int, Any] = OrderedDict()
    head_size = proto.TASK_HEAD.size
    recv_exact, unpack = proto.recv_exact, proto.TASK_HEAD.unpack
    clock = time.perf_counter
    while True:
        head = recv_exact(sock, head_size)
        if head is None:
            return  # the parent closed our socket
        kind, flags, fn_id, chunk_id, start, fn_len, args_len = unpack(head)
        if kind == proto.QUIT:
            return
        fn_bytes = recv_exact(sock, fn_len) if fn_len else None
        args = recv_exact(sock, args_len)
        if args is None or (fn_len and fn_bytes is None):
            return
        if fn_bytes is not None:
            fns[fn_id] = fn = _load(fn_bytes)
            if len(fns) > FN_CACHE:
                fns.popitem(last=False)
        else:
            fn = fns[fn_id]
            fns.move_to_end(fn_id)
        began = clock()
        out: list[Any]
        exc: BaseException | None
        tb: str | None
        if isinstance(fn, _LoadFailure):
            out, exc, tb = [], fn.error, fn.tb
        else:
            try:
                items = cerial.deserialize(args)
            except BaseException as error:
                error.add_note("while loading a chunk of task arguments in a pool worker")
                out, exc, tb = [], error, _format(error)
            else:
                del args
                out, exc, tb = run_chunk(fn, items, flags, start, progress)
                del items
        buffers = _reply(chunk_id, out, exc, tb, began)
        del out, exc, tb
        if flags & proto.FLAG_TRACK:
            progress[0] = -1
        proto.send_all(sock, buffers)
        del buffers


_exiting = False


def _watch_lifeline(lifeline: socket.socket) -> None:
    def watch() -> None:
        try:
            while lifeline.recv(1):
                pass  # the parent never writes; this returns at EOF only
        except OSError:
            pass
        if not _exiting:  # a worker on its way out (QUIT) flushes its output first
            os._exit(EXIT_ORPHANED)

    thread = threading.Thread(target=watch, name="suitkaise-pool-lifeline", daemon=True)
    mark_fork_safe(thread).start()


def _die_with_parent(parent_pid: int) -> bool:
    """Linux: have the kernel SIGKILL us when the parent goes, even if we hold the GIL.

    True if done. (The signal comes when the *thread* that started us ends: the main
    thread, or the pool's dispatcher thread, which outlives its workers.)
    """
    if not set_death_signal():
        return False
    if parent_pid and os.getppid() != parent_pid:  # the parent went before prctl took effect
        os._exit(EXIT_ORPHANED)
    return True


def worker_main(sock: socket.socket, lifeline: socket.socket, progress: Any,
                parent_pid: int) -> None:
    """The target of every worker process."""
    global _exiting
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    close_in_children(sock, lifeline)  # a task's own forks must not hold them
    try:
        # READY first: the first chunk travels while a spawned worker loads ctypes for
        # the death signal (a millisecond or two). No task runs before the watch is set.
        proto.send_all(sock, [proto.REPLY_HEAD.pack(proto.READY, 0, os.getpid(), 0, 0.0, 0, 0)])
        # The kernel's death signal covers a parent that started us itself; a forkserver
        # child (parent_pid 0) has the forkserver as its parent, so it watches the lifeline.
        if not (_die_with_parent(parent_pid) and parent_pid):
            _watch_lifeline(lifeline)
        _serve(sock, progress)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone or killed us; nothing to report
    finally:
        _exiting = True
        sock.close()
        lifeline.close()
