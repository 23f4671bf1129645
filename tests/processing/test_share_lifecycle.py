"""The coordinator's life: no orphans (owner exit, Ctrl-C, SIGKILL), an authenticated
channel, clear errors when it is gone, exit()/start() seen from other processes, and
Share inside Skprocess and pool tasks."""

from __future__ import annotations

import os
import signal
import socket
import stat
import time
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client

import pytest
from _support import TIMEOUT
from test_share_support import (
    Slow,
    SlowToSend,
    ctx,
    join_all,
    pause_and_report,
    pool_task,
    run_script,
    start_all,
    wait_for_file,
    wait_gone,
    write_after_the_end,
    write_wait_write,
)

from suitkaise.processing._context import set_start_method
from suitkaise.processing._share import CoordinatorDiedError, Share
from suitkaise.processing._share._protocol import GET, frame

OWNER_SCRIPT = """
    import os, signal, sys, time
    from suitkaise.processing import set_start_method
    from suitkaise.processing._share import Share

    if __name__ == "__main__":
        set_start_method(sys.argv[1])
        share = Share()
        share.counter = 1
        print(share._sk_runtime.process.pid, share._sk_runtime.directory, flush=True)
        how = sys.argv[2]
        if how == "wait":
            sys.stdin.readline()          # until the test closes stdin (or kills us)
        elif how == "crash":
            os.kill(os.getpid(), signal.SIGKILL)
        # "return": end without exit(); the coordinator must not keep us waiting
        print("done", flush=True)
"""


def _start_owner(tmp_path, method, how, new_session=False):
    proc = run_script(tmp_path / "owner.py", OWNER_SCRIPT, method, how, new_session=new_session)
    line = proc.stdout.readline().split()
    if not line:
        raise AssertionError(proc.communicate(timeout=TIMEOUT)[1])
    return proc, int(line[0]), line[1]


# ---------------------------------------------------------------- no orphans


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_owner_returning_without_exit_ends_the_coordinator(tmp_path, method):
    proc, pid, directory = _start_owner(tmp_path, method, "return")
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err
    assert wait_gone([pid]) == []
    assert not os.path.exists(directory)


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_owner_killed_ends_the_coordinator(tmp_path, method):
    proc, pid, directory = _start_owner(tmp_path, method, "wait")
    proc.kill()
    proc.communicate(timeout=TIMEOUT)
    assert wait_gone([pid]) == []
    # The kernel's SIGKILL may reach the coordinator before it removes the socket
    # directory; then the next Share of this user removes it.
    Share().exit()
    assert not os.path.exists(directory)


def test_owner_crashing_ends_the_coordinator(tmp_path):
    proc, pid, directory = _start_owner(tmp_path, "fork", "crash")
    proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == -signal.SIGKILL
    assert wait_gone([pid]) == []
    Share().exit()  # sweeps the socket directory the killed owner left, if any
    assert not os.path.exists(directory)


def test_ctrl_c_on_the_terminal_ends_owner_and_coordinator(tmp_path):
    # A terminal's Ctrl-C signals the whole foreground process group: the coordinator
    # ignores it, the owner stops with KeyboardInterrupt, and the coordinator follows.
    proc, pid, _ = _start_owner(tmp_path, "fork", "wait", new_session=True)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=TIMEOUT)
    assert "KeyboardInterrupt" in err
    assert wait_gone([pid]) == []


# ---------------------------------------------------------------- the channel


def test_the_socket_is_private_and_a_connection_without_the_secret_is_refused():
    share = Share()
    try:
        share.value = 7
        directory = share._sk_runtime.directory
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
        with pytest.raises(AuthenticationError):
            Client(share._sk_address, authkey=b"not the secret")
        # no handshake at all: the coordinator's challenge is all that comes; the
        # request is taken as a wrong answer to it, and the connection is closed
        conn = Client(share._sk_address)
        conn.send_bytes(frame((GET, "value")))
        assert conn.recv_bytes().startswith(b"#CHALLENGE#")
        assert conn.poll(TIMEOUT) and conn.recv_bytes() == b"#FAILURE#"
        with pytest.raises((EOFError, ConnectionResetError)):
            conn.poll(TIMEOUT)
            conn.recv_bytes()
        conn.close()
        raw = socket.socket(socket.AF_UNIX)
        raw.connect(share._sk_address)
        raw.sendall(b"garbage" * 100)
        raw.close()
        assert share.value == 7  # the coordinator goes on serving
    finally:
        share.exit()


# ---------------------------------------------------------------- other processes


def test_a_client_of_a_killed_coordinator_gets_an_error_not_a_hang(start_method, tmp_path):
    share = Share()
    share.slow = Slow()
    flag, results = tmp_path / "inside", ctx().Queue()
    procs = start_all(pause_and_report, [(share, str(flag), results)])
    assert wait_for_file(flag)  # the child's call is running in the coordinator
    share._sk_runtime.process.kill()
    began = time.monotonic()
    outcome = results.get(timeout=TIMEOUT)
    assert outcome == "CoordinatorDiedError"
    assert time.monotonic() - began < 5.0
    join_all(procs)
    with pytest.raises(CoordinatorDiedError):
        share.exit()


def test_other_processes_see_exit_and_reconnect_after_start(start_method):
    share = Share()
    share.counter = 0
    try:
        for restart, expected in ((True, "ok"), (False, "ShareClosedError")):
            ready, go, results = ctx().Event(), ctx().Event(), ctx().Queue()
            procs = start_all(write_wait_write, [(share, ready, go, results)])
            assert ready.wait(TIMEOUT)
            share.exit()
            if restart:
                share.start()
            go.set()
            kind, detail = results.get(timeout=TIMEOUT)
            join_all(procs)
            assert kind == expected, detail
        assert share.counter == 3  # 1 + 1 (after the restart) + 1; the last write was refused
    finally:
        share.exit()


def test_share_in_pool_tasks(start_method):
    share = Share()
    try:
        share.counter = 0
        share.seen = []
        with ctx().Pool(2) as pool:
            pids = pool.starmap(pool_task, [(share, i) for i in range(20)], chunksize=1)
        assert share.counter == sum(range(20))
        assert sorted(share.seen) == list(range(20))
        assert len(set(pids)) <= 2
    finally:
        share.exit()


def test_the_spec_worker_example_with_skprocess(start_method):
    from test_share_support import Worker

    from suitkaise import timing
    from suitkaise.processing import Skprocess  # noqa: F401 - the example's own import

    share = Share()  # starts automatically

    share.timer = timing.Sktimer()
    share.counter = 0

    workers = []  # the test's own addition, to wait for every worker below
    for _ in range(10):
        worker = Worker(share)
        worker.start()
        workers.append(worker)

        deadline = time.monotonic() + TIMEOUT  # (the test's bound on the spec's loop)
        while share.counter < 100:
            assert time.monotonic() < deadline
            timing.sleep(0.01)

    for _ in range(10):
        worker.wait()

    final_count = share.counter
    assert 100 <= final_count <= 109  # the spec waits for the last worker only
    for w in workers:
        assert w.wait(timeout=TIMEOUT)
    # the first worker counts to 100 alone; each later one runs once, sees >= 100, stops
    assert share.counter == 109
    assert share.timer.num_times == 109
    assert abs(share.timer.total_time - 10.9) < 1e-9

    share.exit()
    assert share.counter == 109
    share.start()
    share.clear()
    assert not hasattr(share, "counter")
    share.exit()


def test_writes_cut_off_by_exit_are_reported_to_their_writer(tmp_path):
    set_start_method("fork")
    try:
        share = Share()
        flag = tmp_path / "exiting"
        share.counter = 0
        share.slow = SlowToSend(str(flag))
        ready, go, results = ctx().Event(), ctx().Event(), ctx().Queue()
        procs = start_all(write_after_the_end, [(share, str(flag), ready, go, results)])
        assert ready.wait(TIMEOUT)
        share.exit()  # the child writes while the coordinator serializes the objects
        go.set()
        kind, detail = results.get(timeout=TIMEOUT)
        join_all(procs)
    finally:
        set_start_method(None)
    assert share.counter == 1
    assert kind == "ShareClosedError" and "5 write(s)" in detail and "not applied" in detail


LOST_NOTICE_SCRIPT = """
    import sys
    from suitkaise.processing import set_start_method
    from suitkaise.processing._context import get_context
    from suitkaise.processing._share import Share

    def bad_write_then_end(share):
        share.counter += "not a number"  # fails in the coordinator; nobody is left to tell

    if __name__ == "__main__":
        set_start_method(sys.argv[1])
        share = Share()
        share.counter = 0
        child = get_context().Process(target=bad_write_then_end, args=(share,))
        child.start()
        child.join()
        share.exit()  # the coordinator has reported the lost error when this returns
        print("counter", share.counter, flush=True)
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_failed_write_of_a_process_that_ended_is_printed_by_the_coordinator(tmp_path, method):
    # The coordinator's stderr is its owner's: run an owner script and read its stderr.
    proc = run_script(tmp_path / "owner.py", LOST_NOTICE_SCRIPT, method)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err
    assert out.strip() == "counter 0"
    assert "a write failed and the process that sent it ended before it could be told" in err
    assert "share.counter += ...: TypeError: unsupported operand" in err


def test_share_in_suitkaise_pool_tasks(start_method):
    pool_module = pytest.importorskip("suitkaise.processing._pool")  # written in parallel
    share = Share()
    try:
        share.counter = 0
        share.seen = []
        with pool_module.Pool(workers=2) as pool:
            pids = pool.star().map(pool_task, [(share, i) for i in range(20)])
        assert len(pids) == 20
        assert share.counter == sum(range(20))
        assert sorted(share.seen) == list(range(20))
    finally:
        share.exit()
