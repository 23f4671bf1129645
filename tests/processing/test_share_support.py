"""Shared pieces of the Share tests: process helpers and child-process bodies (module
level, so that spawn and forkserver children import them).

A test that takes the suite's ``start_method`` fixture runs once per start method (the
coordinator and the test's own children both use it; ``ctx`` is its context).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from _support import TIMEOUT
from process_probes import alive, run_script, wait_gone

from suitkaise.processing._context import get_context

__all__ = ("alive", "ctx", "join_all", "run_script", "start_all", "wait_gone")

def ctx() -> Any:
    """The multiprocessing context of the current start method."""
    return get_context()


def start_all(target: Any, args_list: list[tuple[Any, ...]]) -> list[Any]:
    context = ctx()
    procs = [context.Process(target=target, args=args) for args in args_list]
    for proc in procs:
        proc.start()
    return procs


def join_all(procs: list[Any]) -> None:
    """Join every process (bounded); fail if one hangs or fails."""
    for proc in procs:
        proc.join(TIMEOUT)
    for proc in procs:
        if proc.exitcode is None:
            proc.kill()
            proc.join()
            raise AssertionError(f"{proc.name} did not finish within {TIMEOUT}s")
    codes = [proc.exitcode for proc in procs]
    assert codes == [0] * len(procs), f"child exit codes: {codes}"


# ---------------------------------------------------------------- child bodies


def add_many(share: Any, n: int) -> None:
    """``share.counter += 1`` n times."""
    for _ in range(n):
        share.counter += 1


class Holder:
    """An object holding a Share, for the ``self.share.x += 1`` form."""

    def __init__(self, share: Any) -> None:
        self.share = share

    def run(self, n: int) -> None:
        for _ in range(n):
            self.share.counter += 1


def add_many_through_self(share: Any, n: int) -> None:
    Holder(share).run(n)


def every_form(share: Any, n: int, index: int) -> None:
    """Every supported augmented assignment form, n times each."""
    bit = 1 << index
    for _ in range(n):
        share.up += 1
        share.down -= 2
        share.items += [index]
        share.text += "ab"
        share.d["k"] += 1
        share.obj.hits += 1
    share.bits |= bit
    for _ in range(3):
        share.product *= 2


def append_many(share: Any, n: int, tag: int) -> None:
    for i in range(n):
        share.items.append((tag, i))
        share.timer.add_time(0.5)


def write_then_tell(share: Any, done: Any, n: int) -> None:
    """Write n values, then say so (the reader must see the last one)."""
    for i in range(n):
        share.value = i
    done.set()


def own_writes(share: Any, name: str, n: int, errors: Any) -> None:
    """Each write is read back at once by the same process."""
    bad = 0
    setattr(share, name, 0)
    for i in range(1, n + 1):
        setattr(share, name, i)
        if getattr(share, name) != i:
            bad += 1
        share.total += 1
    errors.put(bad)


def wait_for_file(path: Path, timeout: float = TIMEOUT) -> bool:
    """Bounded polling until *path* exists."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


class Slow:
    """A shared object whose method keeps the coordinator busy (to force a race)."""

    def pause(self, seconds: float, flag: str | None = None) -> None:
        if flag is not None:
            Path(flag).touch()  # tells the test that the coordinator is inside the call
        time.sleep(seconds)


def write_wait_write(share: Any, ready: Any, go: Any, results: Any) -> None:
    """Write, say so, wait for the go, then write and read again; report the outcome."""
    share.counter += 1
    share.counter  # noqa: B018 - a read: the write above is applied
    ready.set()
    go.wait(TIMEOUT)
    try:
        share.counter += 1
        results.put(("ok", share.counter))
    except Exception as exc:  # noqa: BLE001 - the type is the result
        results.put((type(exc).__name__, str(exc)))


def pause_and_report(share: Any, flag: str, results: Any) -> None:
    try:
        share.slow.pause(TIMEOUT, flag)
        results.put("returned")
    except BaseException as exc:  # noqa: BLE001 - the type is the result
        results.put(type(exc).__name__)


def pool_task(share: Any, i: int) -> int:
    share.counter += i
    share.seen.append(i)
    return os.getpid()


try:
    from suitkaise.processing import Skprocess
except ImportError:  # pragma: no cover - Skprocess is written in parallel
    Skprocess = object  # type: ignore[assignment,misc]


class Worker(Skprocess):  # type: ignore[misc,valid-type]
    """The Worker of processing.md's Share example, as written there."""

    def __init__(self, share: Any) -> None:
        self.share = share

    def __run__(self) -> None:
        self.share.counter += 1
        self.share.timer.add_time(0.1)

        if self.share.counter >= 100:
            self.stop()


class SlowToSend:
    """Slow to serialize, but only inside the coordinator: holds up exit() there (the
    flag file says that it has begun), to force writes to arrive after the end."""

    def __init__(self, flag: str) -> None:
        self.flag = flag

    def __serialize__(self) -> str:
        from suitkaise.processing._share import _coordinator

        if _coordinator.serving is not None:
            Path(self.flag).touch()
            time.sleep(0.5)
        return self.flag

    @classmethod
    def __deserialize__(cls, state: str) -> SlowToSend:
        return cls(state)


def write_after_the_end(share: Any, flag: str, ready: Any, go: Any, results: Any) -> None:
    share.counter += 1
    share.counter  # noqa: B018 - applied for sure
    ready.set()
    wait_for_file(Path(flag))  # the coordinator is inside exit() now
    for _ in range(5):
        share.counter += 1  # these arrive after its last read of the sockets
    go.wait(TIMEOUT)
    try:
        share.counter += 1
        results.put(("ok", ""))
    except Exception as exc:  # noqa: BLE001 - the type is the result
        results.put((type(exc).__name__, str(exc)))


class Big:
    """A shared object whose reply is far larger than a socket buffer."""

    def blob(self, size: int) -> bytes:
        return b"x" * size


class Quitter:
    """A shared object whose methods raise what ends a process elsewhere."""

    def quit(self) -> None:
        raise SystemExit(3)

    def generator_exit(self) -> None:
        raise GeneratorExit("from a shared method")

    @property
    def gone(self) -> int:
        return 0

    @gone.setter
    def gone(self, value: int) -> None:
        raise SystemExit(value)


#: Shares created by make_share_and_return (kept until the process ends).
KEEP: list[Any] = []


def make_share_and_return() -> None:
    """A plain multiprocessing child that creates a Share, keeps it, and returns."""
    from suitkaise.processing._share import Share

    share = Share()
    share.x = 1
    KEEP.append(share)


def has_inode(inode: int) -> None:
    """Exit code 1 when this process holds a descriptor of *inode* (Linux /proc)."""
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.stat(f"/proc/self/fd/{name}").st_ino == inode:
                os._exit(1)
        except OSError:
            continue
    os._exit(0)
