"""``Share``: objects shared by processes, held by one coordinator process.

::

    owner process                         any process with the Share
    (created the Share)                   (Skprocess, Pool task, plain Process)
    Share ----------------+               Share (address + secret, via cerial/pickle)
      _Runtime            |                 one Link per thread --+
        coordinator process  <--------------------------------------+
        lifeline end      |   authenticated AF_UNIX socket, frames (_protocol)
        socket directory  |
                          +-- its own Links too

The owner's ``_Runtime`` starts the coordinator (``_coordinator``), keeps the lifeline
that ends it with the owner, and removes the private socket directory at the end.
Every process talks to the coordinator over its own connections (``_client.Link``),
one per thread, opened on first use.

While the owner has called ``exit()`` and not ``start()`` again, the owner's Share
holds the objects itself (a plain local namespace: reads, writes and method calls act
on local objects), ``start()`` sends them to a new coordinator, and other processes get
``ShareClosedError`` until then.
"""

from __future__ import annotations

import atexit
import multiprocessing.util  # imported first, so our atexit hook runs before its join
import os
import shutil
import socket
import sys
import tempfile
import threading
import weakref
from typing import Any

from ... import cerial
from .._context import MISSING_MAIN_GUARD, bootstrapping, get_context
from .._forkclose import close_in_children, forget
from ._client import Link, Stale, fork_generation, raise_remote
from ._coordinator import coordinator_main
from ._errors import CoordinatorDiedError, ShareClosedError, ShareError
from ._ops import LAZY, attribute_use, refuse_unsafe_update
from ._protocol import CLEAR, DEL, EXIT, GET, NAMES, PROXY, SET, SYNC, decode, encode
from ._proxy import APPLIED, Augmented, Proxy, same_target

__all__ = ("START_TIMEOUT", "Share")

#: Seconds the coordinator may take to start listening before Share() gives up.
START_TIMEOUT = 60.0
#: Seconds exit() waits for the coordinator to end after its last reply (then kills it).
STOP_TIMEOUT = 10.0


class _Runtime:
    """The owner's side of one Share: its coordinator process and socket directory."""

    def __init__(self, directory: str | None, address: Any, authkey: bytes) -> None:
        self.pid = os.getpid()
        self.directory = directory
        self.address = address
        self.authkey = authkey
        self.process: Any = None
        self.lifeline: Any = None
        self.lock = threading.RLock()

    def owned_here(self) -> bool:
        return self.pid == os.getpid()

    def start(self, state: bytes | None) -> None:
        if bootstrapping():
            raise ShareError(f"a Share cannot be created here: {MISSING_MAIN_GUARD}")
        self._remove_stale_socket()
        ctx = get_context()
        method = ctx.get_start_method()
        mine, theirs = ctx.Pipe(duplex=True)
        close_in_children(mine)
        # PR_SET_PDEATHSIG follows the thread that forked: only ask for it when that
        # thread lives as long as the process (the main thread), or under forkserver
        # (where the parent is the fork server, which ends with us).
        in_main_thread = threading.current_thread() is threading.main_thread()
        die_with_owner = method == "forkserver" or in_main_thread
        owner_pid = 0 if method == "forkserver" else os.getpid()
        # typeshed's BaseContext lacks Process, which every concrete context has
        process = ctx.Process(  # type: ignore[attr-defined]
            target=coordinator_main,
            args=(self.address, self.authkey, state, theirs, owner_pid, die_with_owner),
            name="suitkaise-share-coordinator",
            daemon=False,
        )
        try:
            process.start()
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()
        self.process, self.lifeline = process, mine
        _owned.add(self)
        _hook_exit()
        try:
            self.address = self._wait_ready(mine, process)
        except BaseException:
            self.stop()
            raise

    def _remove_stale_socket(self) -> None:
        """Remove the socket file a killed coordinator left (it would refuse the new
        one its address); the directory is private to this runtime."""
        if isinstance(self.address, str):
            try:
                os.unlink(self.address)
            except FileNotFoundError:
                pass

    @staticmethod
    def _wait_ready(conn: Any, process: Any) -> Any:
        """The address the coordinator listens on, once it does."""
        waited = 0.0
        while not conn.poll(0.05):
            waited += 0.05
            if not process.is_alive() or waited > START_TIMEOUT:
                process.join(0.5)
                raise CoordinatorDiedError(
                    f"the Share's coordinator did not start (exit code {process.exitcode}); "
                    "see its output on stderr"
                )
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError) as exc:
            raise CoordinatorDiedError("the Share's coordinator ended while starting") from exc
        message = cerial.deserialize(data)
        if message[0] != "ready":
            raise_remote(data, note="raised while the Share's coordinator was starting")
        return message[1]

    def alive(self, pid: int) -> bool:
        process = self.process
        return process is not None and process.is_alive()

    def running(self) -> bool:
        return self.process is not None

    def died(self) -> CoordinatorDiedError | None:
        """The error to raise when the coordinator should run but has died (killed,
        crashed) without ``exit()``; None otherwise."""
        process = self.process
        if process is None or process.is_alive():
            return None
        return CoordinatorDiedError(
            f"the Share's coordinator died (exit code {process.exitcode}: it was killed or "
            "crashed) and its objects are lost; call exit() and then start() to share again"
        )

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """End the coordinator (it ends by itself after ``exit``; else the closed
        lifeline ends it) and wait for it."""
        process, lifeline = self.process, self.lifeline
        self.process = self.lifeline = None
        if lifeline is not None:
            forget(lifeline)
            lifeline.close()
        if process is not None:
            process.join(timeout)
            if process.exitcode is None:
                process.kill()
                process.join(timeout)

    def shutdown(self) -> None:
        """The owner is done with the Share (collected, or the interpreter exits)."""
        if not self.owned_here():
            return
        with self.lock:
            _owned.discard(self)
            self.stop(timeout=2.0)
            if self.directory is not None:
                shutil.rmtree(self.directory, ignore_errors=True)


#: The runtimes of this process not shut down yet (running, or exited and keeping their
#: socket directory for start()): all are shut down when the process ends.
_owned: set[_Runtime] = set()
_hooked_pid = 0


def _end_all() -> None:
    for runtime in list(_owned):
        runtime.shutdown()


def _hook_exit() -> None:
    """Have this process end its coordinators before multiprocessing joins its children
    at exit: a multiprocessing child (which never runs atexit hooks) would otherwise
    wait for its coordinator forever, and so would its parent."""
    global _hooked_pid
    if _hooked_pid != os.getpid():
        _hooked_pid = os.getpid()
        multiprocessing.util.Finalize(None, _end_all, exitpriority=100)


def _forget_after_fork() -> None:
    _owned.clear()  # the parent's coordinators are not this child's


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(_end_all)

# address -> the Share instance for it in this process (the owner's own instance in the
# owner, one client instance elsewhere), so that a Share received many times (one per
# Pool task...) reuses one instance and its connections.
_instances: weakref.WeakValueDictionary[str, Share] = weakref.WeakValueDictionary()
_instances_pid = os.getpid()

_OWN = frozenset({"start", "exit", "clear"})


class Share:
    """Objects shared between processes.

    Create it, put objects on it as attributes, and pass it to Skprocesses, Pool tasks
    or any other process (it travels with cerial or pickle)::

        from suitkaise.processing import Share
        from suitkaise.timing import Sktimer

        share = Share()              # the coordinator process starts at once
        share.counter = 0
        share.timer = Sktimer()
        share.items = []

        # in any process that got `share`:
        share.counter += 1           # atomic: no update is lost
        share.timer.add_time(0.1)    # runs on the one real Sktimer
        share.items.append("x")
        share.counter, share.timer.mean   # live values

        share.exit()                 # stop sharing (the objects stay readable here)
        share.start()                # share them again
        share.clear()                # remove every object

    Any object cerial can serialize can be shared. Reading an immutable value (a
    number, string, tuple...) returns a copy; reading a mutable object returns a
    proxy that forwards everything to the real object in the coordinator. Every
    write and method call runs there, one at a time in one order; a read sees
    every write of its own process and thread before it, and every write any process
    completed before the read began. ``share.x op= v`` (``+=``, ``-=``, ``*=``, ``|=``,
    ... and ``share.d[k] op= v``) is one atomic request (on Python 3.11 to 3.13;
    elsewhere it raises :class:`ShareError` instead of risking a lost update).

    Writes (assignments, ``del``, augmented assignments) do not wait for the
    coordinator: if one fails there (``share.counter += "a"``), the error is raised by
    the next request from the same thread, with a note naming the write.

    The coordinator ends with the process that created the Share (also on Ctrl-C or
    a crash), or when that process drops its last reference to the Share: keep it
    while others use it. Only processes that hold the Share's secret can talk to
    the coordinator; everything received from it is deserialized (as powerful as
    unpickling), so share only between your own processes. Use it as a context
    manager to ``exit()`` at the end of a block.

    Good to know:

    - a proxy is not the object: ``isinstance(share.items, list)`` is False;
      ``list(share.items)`` or ``copy.copy`` of a method's result give local copies,
      and iterating a proxy iterates a snapshot;
    - every method runs in the coordinator's one thread, in turn: a method that
      blocks (waits on a lock, sleeps) holds up every other process meanwhile, and
      per-thread state is shared (``Sktimer.start()``/``stop()`` from two processes
      mix; use ``add_time()`` with times measured locally);
    - ``share.x = share.x + 1`` is a read and then a write, as in plain Python, and
      can lose updates; write ``share.x += 1``.
    """

    __slots__ = ("__weakref__", "_sk_address", "_sk_authkey", "_sk_local", "_sk_runtime", "_sk_tls")

    def __init__(self) -> None:
        directory, address = _new_address()
        authkey = os.urandom(32)
        runtime = _Runtime(directory, address, authkey)
        object.__setattr__(self, "_sk_runtime", runtime)
        object.__setattr__(self, "_sk_authkey", authkey)
        object.__setattr__(self, "_sk_local", None)
        object.__setattr__(self, "_sk_tls", threading.local())
        weakref.finalize(self, runtime.shutdown).atexit = False
        try:
            runtime.start(None)
        except BaseException:
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
            raise
        object.__setattr__(self, "_sk_address", runtime.address)
        _remember(self)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start sharing again after :meth:`exit`, with the objects the Share held
        then (and whatever was changed since in this process). Does nothing while
        the Share runs. Only the process that created the Share may call it.

        Processes that kept the Share reconnect by themselves on their next request.
        """
        runtime = self._sk_owner("start")
        with runtime.lock:
            local = self._sk_local
            if local is None:
                died = runtime.died()
                if died is not None:
                    raise died
                return
            runtime.start(cerial.serialize(local))
            object.__setattr__(self, "_sk_address", runtime.address)  # changes only over TCP
            object.__setattr__(self, "_sk_local", None)
            _remember(self)

    def exit(self) -> None:
        """Stop sharing: the coordinator applies every write that completed before
        this call, sends the objects back here and ends. Only the process that created
        the Share may call it; calling it again does nothing.

        Afterwards the Share works as a plain local namespace in this process (reads,
        writes and method calls act on the local objects) until :meth:`start`; other
        processes get :class:`ShareClosedError` meanwhile.
        """
        runtime = self._sk_owner("exit")
        with runtime.lock:
            if self._sk_local is not None:
                return
            error: bytes | None = None
            try:
                objects, error = decode(self._sk_call((EXIT,))[1])
            except ShareClosedError as exc:
                object.__setattr__(self, "_sk_local", {})
                runtime.stop()
                raise CoordinatorDiedError(
                    "the Share's coordinator had already ended; its objects are lost"
                ) from exc
            finally:
                self._sk_drop_link()
            runtime.stop()
            object.__setattr__(self, "_sk_local", objects)
            if error is not None:
                raise_remote(error)

    def clear(self) -> None:
        """Remove every object from the Share."""
        local = self._sk_local_here()
        if local is not None:
            local.clear()
            return
        self._sk_call((CLEAR,))

    def __enter__(self) -> Share:
        if self._sk_local is not None and self._sk_is_owner():
            self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._sk_is_owner():
            self.exit()

    # ------------------------------------------------------------------ attributes

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_sk_") or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)
        local = self._sk_local
        if local is not None and self._sk_is_owner():
            try:
                return local[name]
            except KeyError:
                raise AttributeError(f"the Share has no attribute {name!r}") from None
        decision = attribute_use(sys._getframe(1), name)
        if type(decision) is str:  # the first half of `share.name op= value`
            return Augmented(self, (name,))
        if decision == LAZY:
            return Proxy(self, (name,))
        # VALUE, or METHOD: `share.name(...)` calls what the name holds, here
        return self._sk_value(self._sk_call((GET, name)), (name,))

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OWN or name.startswith("_sk_"):
            raise ShareError(f"{name!r} is part of Share itself and cannot name a shared object")
        if value is APPLIED:
            return
        local = self._sk_local
        if local is not None and self._sk_is_owner():
            local[name] = value
            return
        if type(value) is Proxy and same_target(value, self, (name,)):
            return  # share.x = share.x, or the end of `share.x += ...` on a proxy
        refuse_unsafe_update(sys._getframe(1), f"share.{name}")
        self._sk_write((SET, name, encode(value)))

    def __delattr__(self, name: str) -> None:
        local = self._sk_local
        if local is not None and self._sk_is_owner():
            try:
                del local[name]
            except KeyError:
                raise AttributeError(f"the Share has no attribute {name!r}") from None
            return
        self._sk_write((DEL, name))

    def __dir__(self) -> list[str]:
        local = self._sk_local_here()
        names = tuple(local) if local is not None else self._sk_call((NAMES,))[1]
        return sorted(set(names) | _OWN)

    def __repr__(self) -> str:
        runtime = self._sk_runtime
        if runtime is not None and runtime.owned_here():
            state = "exited" if self._sk_local is not None else "running"
            return f"<Share {state}, owner pid {runtime.pid}>"
        return f"<Share at {self._sk_address}>"

    # ------------------------------------------------------------------ travel

    def __serialize__(self) -> dict[str, Any]:
        return {"address": self._sk_address, "authkey": self._sk_authkey}

    @classmethod
    def __deserialize__(cls, state: dict[str, Any]) -> Share:
        _reset_after_fork()
        found = _instances.get(state["address"])
        if found is not None:
            return found
        share = object.__new__(cls)
        object.__setattr__(share, "_sk_address", state["address"])
        object.__setattr__(share, "_sk_authkey", state["authkey"])
        object.__setattr__(share, "_sk_runtime", None)
        object.__setattr__(share, "_sk_local", None)
        object.__setattr__(share, "_sk_tls", threading.local())
        _remember(share)
        return share

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild_share, (self.__serialize__(),)

    def __copy__(self) -> Share:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Share:
        return self

    # ------------------------------------------------------------------ requests

    def _sk_link(self) -> Link:
        link = self._sk_tls.__dict__.get("link")
        if link is None or link.generation != fork_generation():
            runtime = self._sk_runtime
            owner = runtime is not None and runtime.owned_here()
            alive = runtime.alive if owner else _pid_alive
            try:
                link = Link(self._sk_address, self._sk_authkey, alive)
            except ShareClosedError:
                died = runtime.died() if owner and runtime is not None else None
                if died is not None:
                    raise died from None
                raise
            self._sk_tls.link = link
        return link

    def _sk_drop_link(self) -> None:
        link = self._sk_tls.__dict__.pop("link", None)
        if link is not None and link.generation == fork_generation():
            link.close()

    def _sk_write(self, message: tuple[Any, ...]) -> None:
        try:
            self._sk_link().write(message)
        except Stale:
            self._sk_drop_link()
            self._sk_link().write(message)

    def _sk_call(self, message: tuple[Any, ...]) -> Any:
        try:
            return self._sk_link().call(message)
        except Stale:
            self._sk_drop_link()
            return self._sk_link().call(message)

    def _sk_value(self, reply: tuple[Any, ...], path: tuple[Any, ...] = ()) -> Any:
        if reply[0] == PROXY:
            return Proxy(self, path)
        return decode(reply[1])

    def _sk_sync(self) -> None:
        """Wait until every write sent so far (by any process) is applied."""
        if self._sk_local_here() is None:
            self._sk_call((SYNC,))

    # ------------------------------------------------------------------ ownership

    def _sk_is_owner(self) -> bool:
        runtime = self._sk_runtime
        return runtime is not None and runtime.owned_here()

    def _sk_owner(self, what: str) -> _Runtime:
        runtime = self._sk_runtime
        if runtime is None or not runtime.owned_here():
            raise ShareError(f"only the process that created this Share can {what}() it")
        return runtime

    def _sk_local_here(self) -> dict[str, Any] | None:
        local = self._sk_local
        return local if local is not None and self._sk_is_owner() else None


def _new_address() -> tuple[str | None, Any]:
    """A private directory and the socket path in it; on platforms without AF_UNIX
    sockets, no directory and a loopback TCP address (its port picked when bound)."""
    if hasattr(socket, "AF_UNIX") and sys.platform != "win32":
        base = tempfile.gettempdir()
        if len(base) > 60:  # socket paths are limited to ~104 bytes (macOS $TMPDIR is long)
            base = "/tmp"
        _sweep(base)
        # mode 0700: only this user's processes can even reach the socket
        directory = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=base)
        return directory, os.path.join(directory, "s")
    return None, ("127.0.0.1", 0)  # pragma: no cover - Windows


_PREFIX = "suitkaise-share-"


def _sweep(base: str) -> None:
    """Remove the socket directories of Shares whose owner was killed.

    A coordinator removes its directory when its owner ends, except when the kernel's
    parent-death SIGKILL reaches it first (the owner was killed): the next Share
    created by this user cleans up after it.
    """
    try:
        entries = list(os.scandir(base))
    except OSError:
        return
    uid = os.getuid()
    for entry in entries:
        if not entry.name.startswith(_PREFIX):
            continue
        try:
            pid = int(entry.name[len(_PREFIX):].split("-", 1)[0])
            mine = entry.stat(follow_symlinks=False).st_uid == uid
            if not mine or not entry.is_dir(follow_symlinks=False):
                continue
        except (ValueError, OSError):
            continue
        if not _pid_alive(pid):
            shutil.rmtree(entry.path, ignore_errors=True)


def _remember(share: Share) -> None:
    _reset_after_fork()
    _instances[share._sk_address] = share


def _reset_after_fork() -> None:
    # A forked child inherits the parent's table; those instances are its own only as
    # clients, and the owner's instance must not be handed out as the owner.
    global _instances_pid
    if _instances_pid != os.getpid():
        _instances.clear()
        _instances_pid = os.getpid()


def _rebuild_share(state: dict[str, Any]) -> Share:
    return Share.__deserialize__(state)


def _pid_alive(pid: int) -> bool:
    if not pid:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
