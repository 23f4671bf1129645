"""Pool lifetime around unread iterators, cancelled calls and interrupted input: no
call waits forever for a reader that is gone, and no pool dies under its own results."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

import pytest
from _support import TIMEOUT
from test_pool_support import make_pool, wait_for

from suitkaise.processing._pool import Pool, PoolClosedError, PoolTimeoutError


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
