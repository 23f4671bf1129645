"""The quicker fork child set-up (_fastfork): the child's state and exit match multiprocessing's."""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import sys
import threading
from typing import Any

import pytest

from suitkaise.processing._context import get_context
from suitkaise.processing._fastfork import ForkProcess, process_class

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork start method only")

TIMEOUT = 10.0


def _start(target: Any, *args: Any) -> Any:
    cls = process_class(get_context("fork"))
    assert cls is ForkProcess
    proc = cls(target=target, args=args, name="fast-child")
    proc.start()
    return proc


def _start_talking(target: Any, *args: Any) -> tuple[Any, Any]:
    """Start *target* with a pipe's sending end (then *args*): the process and the
    parent's receiving end."""
    parent_end, child_end = get_context("fork").Pipe()
    proc = _start(target, child_end, *args)
    child_end.close()
    return proc, parent_end


def _ended(proc: Any) -> int:
    proc.join(TIMEOUT)
    assert proc.exitcode is not None, "the child did not end"
    return proc.exitcode


def _report_state(conn: Any, after_fork: list[str]) -> None:
    parent = multiprocessing.parent_process()
    conn.send({
        "name": multiprocessing.current_process().name,
        "pid_seen": multiprocessing.current_process().pid,
        "parent_pid": parent.pid if parent else None,
        "parent_alive": parent.is_alive() if parent else None,
        "stdin": sys.stdin.read(),
        "children": multiprocessing.active_children(),
        "after_fork": after_fork,
        "start_method": multiprocessing.get_start_method(),
        "native_id": threading.main_thread().native_id == threading.get_native_id(),
    })


class _Marker:
    pass


def test_the_child_has_multiprocessings_state() -> None:
    after_fork: list[str] = []
    marker = _Marker()
    multiprocessing.util.register_after_fork(marker, lambda _: after_fork.append("ran"))
    proc, parent_end = _start_talking(_report_state, after_fork)
    assert parent_end.poll(TIMEOUT)
    state = parent_end.recv()
    assert _ended(proc) == 0
    assert state == {
        "name": "fast-child",
        "pid_seen": proc.pid,
        "parent_pid": os.getpid(),
        "parent_alive": True,
        "stdin": "",
        "children": [],
        "after_fork": ["ran"],
        "start_method": "fork",
        "native_id": True,
    }
    assert not sys.stdin or not sys.stdin.closed  # the parent's stdin is untouched
    del marker


def _grandchild_reads_stdin() -> tuple[str, int | None]:
    """(In a child.) Start a grandchild; what it read from its stdin, and its exit code."""
    ctx = get_context("fork")
    inner_parent, inner_child = ctx.Pipe()
    inner = process_class(ctx)(target=_send_stdin, args=(inner_child,))
    inner.start()
    inner_child.close()
    got = inner_parent.recv() if inner_parent.poll(TIMEOUT) else "no answer"
    inner.join(TIMEOUT)
    return got, inner.exitcode


def _nested(conn: Any) -> None:
    # a grandchild started from the child gets the same (still open) devnull stdin
    got, code = _grandchild_reads_stdin()
    conn.send((got, code, sys.stdin.read()))


def _send_stdin(conn: Any) -> None:
    conn.send(sys.stdin.read())


def test_a_grandchild_starts_and_reads_an_open_empty_stdin() -> None:
    proc, parent_end = _start_talking(_nested)
    assert parent_end.poll(TIMEOUT)
    assert parent_end.recv() == ("", 0, "")
    assert _ended(proc) == 0


def _exit_with(code: Any) -> None:
    sys.exit(code)


def _raise() -> None:
    raise ValueError("boom in the child")


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (3, 3), ("a message", 1)])
def test_systemexit_sets_the_exit_code(code: Any, status: int, capfd: Any) -> None:
    assert _ended(_start(_exit_with, code)) == status
    if isinstance(code, str):
        assert "a message" in capfd.readouterr().err


def test_an_exception_prints_its_traceback_and_exits_1(capfd: Any) -> None:
    assert _ended(_start(_raise)) == 1
    err = capfd.readouterr().err
    assert "Process fast-child:" in err
    assert "ValueError: boom in the child" in err


def _leave_a_thread(conn: Any) -> None:
    release = threading.Event()

    def worker() -> None:
        release.wait(TIMEOUT)
        conn.send("thread done")

    threading.Thread(target=worker).start()  # not a daemon: the child waits for it
    release.set()


def test_the_child_waits_for_its_non_daemon_threads() -> None:
    proc, parent_end = _start_talking(_leave_a_thread)
    assert _ended(proc) == 0
    assert parent_end.poll(TIMEOUT) and parent_end.recv() == "thread done"


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_other_start_methods_keep_their_own_class(method: str) -> None:
    ctx = get_context(method)
    assert process_class(ctx) is ctx.Process


def _close_stdin_then_start_a_grandchild(conn: Any) -> None:
    sys.stdin.close()  # the child's own code closes its stdin
    conn.send(_grandchild_reads_stdin())


def test_a_grandchild_of_a_child_that_closed_its_stdin_gets_an_open_one() -> None:
    proc, parent_end = _start_talking(_close_stdin_then_start_a_grandchild)
    assert parent_end.poll(TIMEOUT)
    assert parent_end.recv() == ("", 0)
    assert _ended(proc) == 0


IMPORT_WITHOUT_FORK = """
import multiprocessing.context
del multiprocessing.context.ForkProcess  # as on Windows
from suitkaise.processing import Pool, Skprocess
from suitkaise.processing._fastfork import process_class
print("imported")
"""


def test_the_package_imports_where_there_is_no_fork(tmp_path: Any) -> None:
    from process_probes import run_script

    proc = run_script(tmp_path / "nofork.py", IMPORT_WITHOUT_FORK)
    out, err = proc.communicate(timeout=TIMEOUT * 3)
    assert proc.returncode == 0, err
    assert out.split() == ["imported"]
