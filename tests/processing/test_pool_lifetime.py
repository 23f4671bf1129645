"""Pool lifetime around unread iterators, cancelled calls and interrupted input: no
call waits forever for a reader that is gone, and no pool dies under its own results."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
import time

import pytest
from _support import TIMEOUT
from process_probes import run_script
from test_pool_support import make_pool, wait_for

from suitkaise.processing._pool import (
    Pool,
    PoolClosedError,
    PoolTimeoutError,
    _cleanup,
    _protocol,
)


def double(x):
    return x * 2


def slow_double(x):
    time.sleep(0.2)
    return x * 2


def sleepy(x):
    time.sleep(3.0)
    return x


def test_leaving_the_with_block_ends_an_unread_imap():
    finished = threading.Event()
    left: list[object] = []

    def use_pool() -> None:
        with Pool(2) as pool:
            it = pool.imap(double, range(100_000))
            assert next(it) == 0
        finished.set()
        try:
            list(it)
        except PoolClosedError as exc:
            left.append(exc)

    thread = threading.Thread(target=use_pool, daemon=True)
    thread.start()
    assert finished.wait(TIMEOUT), "the with block did not end: it waits for the iterator"
    thread.join(TIMEOUT)
    assert len(left) == 1 and "read the results inside the block" in str(left[0])


def test_an_imap_dropped_before_its_first_result_does_not_keep_join_waiting():
    pool = make_pool()
    try:
        it = pool.imap(double, range(100_000))
        del it
        gc.collect()
        pool.close()
        assert pool.join(TIMEOUT)
    finally:
        pool.terminate()


@pytest.mark.parametrize("started", [False, True], ids=["unread", "read from"])
def test_closing_an_imap_iterator_ends_its_call(started):
    pool = make_pool()
    try:
        it = pool.imap(double, range(100_000))
        if started:
            assert next(it) == 0
        it.close()
        pool.close()
        assert pool.join(TIMEOUT)
    finally:
        pool.terminate()


def test_an_iterator_collected_by_a_thread_holding_the_pools_lock_does_not_deadlock():
    # A garbage collection runs in whichever thread allocates, the pool's own dispatcher
    # (holding the pool's lock) among them: dropping the iterator's call must not wait
    # for that lock there.
    pool = make_pool()
    collected = threading.Event()

    def collect_holding_the_lock() -> None:
        with pool._backend.lock:
            gc.collect()
        collected.set()

    try:
        for started in (False, True):
            it = pool.imap(double, range(100_000))
            if started:
                assert next(it) == 0
            cycle: list[object] = [it]
            cycle.append(cycle)
            del it, cycle
            collected.clear()
            threading.Thread(target=collect_holding_the_lock, daemon=True).start()
            assert collected.wait(TIMEOUT), "the collection blocked on the pool's lock"
        assert pool.map(double, range(10)) == [x * 2 for x in range(10)]
        pool.close()
        assert pool.join(TIMEOUT)  # both calls ended
    finally:
        pool.terminate()


def test_cleanup_work_runs_apart_and_a_failure_is_reported(monkeypatch):
    reported: list[object] = []
    monkeypatch.setattr(threading, "excepthook", reported.append)
    release, second_ran = threading.Event(), threading.Event()

    def fail() -> None:
        raise RuntimeError("a cleanup that fails")

    _cleanup.ready()
    _cleanup.later(release.wait, timeout=TIMEOUT)  # slow: holds nothing else up
    _cleanup.later(fail)
    _cleanup.later(second_ran.set)
    assert second_ran.wait(TIMEOUT)
    assert wait_for(lambda: len(reported) == 1)
    assert isinstance(reported[0].exc_value, RuntimeError)  # type: ignore[attr-defined]
    release.set()


DEFAULT_METHOD_SCRIPT = """
import gc
from suitkaise.processing import Pool, get_start_method

def double(x):
    return x * 2

if __name__ == "__main__":
    before = get_start_method()
    with Pool(1) as pool:
        it = pool.imap(double, range(10))
        next(it)
        del it  # ended by the cleanup thread
        gc.collect()
        assert pool.map(double, [1]) == [2]
        print(before, get_start_method(), flush=True)
"""


def test_the_pools_own_threads_leave_the_default_start_method_as_it_was(tmp_path):
    # A fresh interpreter: no thread of anybody else's runs there.
    script = run_script(tmp_path / "default_method.py", DEFAULT_METHOD_SCRIPT)
    out, err = script.communicate(timeout=TIMEOUT)
    assert script.returncode == 0, err
    before, after = out.split()
    assert after == before == "fork"


def test_a_forked_child_has_none_of_its_parents_cleanup_work():
    parents = _cleanup._work  # (alive in the child too: a new queue gets a new id)
    pid = os.fork()
    if pid == 0:
        os._exit(0 if _cleanup._work is not parents and _cleanup._work.empty() else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_pool_nobody_holds_lives_as_long_as_its_results():
    total = 0
    for value in Pool(2).imap(double, range(200), chunksize=10):
        gc.collect()  # the Pool object itself is referenced only by the iterator
        total += value
    assert total == 2 * sum(range(200))


def test_a_cancelled_asynced_call_leaves_no_thread_behind():
    pool = make_pool()
    try:
        async def cancelled() -> None:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(pool.map.asynced()(slow_double, range(40)), 0.3)

        asyncio.run(cancelled())
        assert wait_for(lambda: not [t for t in threading.enumerate()
                                     if t.name == "sk:Pool.map"])
    finally:
        pool.terminate()


def _interrupt_main_thread_sends(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every send the main thread makes to a worker get a SIGINT just before it
    writes (as if Ctrl-C came then); the list counts the sends that went on to write."""
    real = _protocol.send_some
    written: list[int] = []

    def send_some(sock, data):
        if threading.current_thread() is threading.main_thread():
            signal.raise_signal(signal.SIGINT)
            written.append(len(data))
        return real(sock, data)

    monkeypatch.setattr(_protocol, "send_some", send_some)
    return written


def test_ctrl_c_while_the_main_thread_hands_out_a_chunk_comes_after_it_is_sent(monkeypatch):
    pool = make_pool(workers=1)
    try:
        assert pool.map(double, range(4)) == [0, 2, 4, 6]
        written = _interrupt_main_thread_sends(monkeypatch)
        with pytest.raises(KeyboardInterrupt):
            pool.map(sleepy, range(4), chunksize=1)
        assert written, "the interrupt came in the middle of the hand-out"
        monkeypatch.undo()
        started = time.monotonic()
        assert pool.map(double, range(10)) == [x * 2 for x in range(10)]
        # the interrupted call's task was stopped, not left to run its 3 s
        assert time.monotonic() - started < 1.5
    finally:
        pool.terminate()


def test_ctrl_c_in_the_main_thread_does_not_strand_another_threads_chunk(monkeypatch):
    # Another thread's map has an item waiting to go out, which the main thread's next
    # call hands out (that thread has not woken the dispatcher yet: here it never
    # does). Ctrl-C right then must not leave the chunk listed on the worker but unsent.
    pool = make_pool(workers=1)
    asked, release, never = threading.Event(), threading.Event(), threading.Event()
    quiet = [True]
    results: list[object] = []
    backend = pool._backend
    real_wake = backend.wake

    def wake() -> None:
        if not (quiet[0] and threading.current_thread() is other):
            real_wake()

    def slow_items():
        yield 0
        asked.set()
        assert release.wait(TIMEOUT)
        yield 1

    def no_items():
        never.wait(TIMEOUT)
        yield from ()

    other = threading.Thread(target=lambda: results.append(
        pool.map(double, slow_items(), chunksize=1)), daemon=True)
    try:
        assert pool.map(double, range(4)) == [0, 2, 4, 6]
        monkeypatch.setattr(backend, "wake", wake)
        other.start()
        assert asked.wait(TIMEOUT)  # item 0 is handed over, and not sent
        _interrupt_main_thread_sends(monkeypatch)
        with pytest.raises(KeyboardInterrupt):
            pool.imap(double, no_items())
        quiet[0] = False
        release.set()
        other.join(TIMEOUT)
        assert results == [[0, 2]], "the other thread's map never got its result"
    finally:
        release.set()
        never.set()
        pool.terminate()


def test_ctrl_c_in_the_input_iterator_is_not_held_back():
    pool = make_pool()

    def items():
        yield 1
        yield 2
        raise KeyboardInterrupt

    try:
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            pool.map(sleepy, items(), chunksize=1)
        # it comes at once, not after the tasks already taken (3 s each) have run
        assert time.monotonic() - started < 1.5
    finally:
        pool.terminate()


def test_imap_timeout_bounds_the_whole_iteration_even_with_results_ready():
    pool = make_pool()
    try:
        read = 0
        with pytest.raises(PoolTimeoutError):
            for _ in pool.imap.timeout(0.3)(double, range(1000), chunksize=1):
                read += 1
                time.sleep(0.01)  # a slow reader: results are always waiting
        assert 0 < read < 1000
    finally:
        pool.terminate()
