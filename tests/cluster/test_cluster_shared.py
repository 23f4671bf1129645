"""One test body, two pools: every call behaves the same on local processes and on a
Dask cluster (``make_pool`` runs each test with both)."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

import pytest
from _support import TIMEOUT, run_threads

from suitkaise import cerial
from suitkaise.processing import (
    BrokenPoolError,
    Pool,
    PoolTimeoutError,
    RemoteTraceback,
    RunError,
    Skprocess,
)


class Counter(Skprocess):
    """Runs three times, then returns its tag and how many runs it saw."""

    def __init__(self, tag):
        self.tag = tag
        self.count = 0
        self.process_config.runs = 3

    def __run__(self):
        self.count += 1

    def __result__(self):
        return (self.tag, self.count, self.__run__.timer.num_times)


class Fails(Skprocess):
    def __init__(self, x):
        self.x = x

    def __run__(self):
        raise ValueError(f"bad run {self.x}")


def test_map_keeps_order_and_takes_lambdas_and_closures(make_pool):
    pool = make_pool()
    factor = 3
    assert pool.map(lambda x: x * factor, range(50)) == [x * 3 for x in range(50)]
    assert pool.map(str, []) == []


def test_objects_pickle_cannot_take_travel(make_pool):
    pool = make_pool()
    lock = threading.Lock()

    class Local:  # a class defined in a function: pickle refuses it
        def __init__(self, v):
            self.v = v

    def task(item):
        with lock:  # a lock captured by a closure
            return Local(item.v + 1)

    out = pool.map(task, [Local(i) for i in range(20)])
    assert [o.v for o in out] == list(range(1, 21))
    assert type(out[0]).__name__ == "Local"


def test_imap_reads_an_endless_input_lazily(make_pool):
    pool = make_pool()
    results = pool.imap(lambda x: x + 1, itertools.count())
    assert list(itertools.islice(results, 500)) == list(range(1, 501))
    results.close()


def test_unordered_imap_yields_every_result(make_pool):
    pool = make_pool()
    assert sorted(pool.unordered_imap(lambda x: -x, range(300))) == sorted(-x for x in range(300))


def test_star_unpacks_tuples_only(make_pool):
    pool = make_pool()
    assert pool.star().map(pow, [(2, 3), (3, 2), (5, 0)]) == [8, 9, 1]
    assert pool.star().map(abs, [-4, (-5,)]) == [4, 5]
    assert list(pool.star().imap(max, [(1, 5), (7, 2)])) == [5, 7]


def test_a_task_error_keeps_its_type_and_the_remote_traceback(make_pool):
    pool = make_pool()

    def divide(x):
        return 10 / x

    with pytest.raises(ZeroDivisionError) as info:
        pool.map(divide, [1, 2, 0, 4])
    assert isinstance(info.value.__cause__, RemoteTraceback)
    assert "divide" in str(info.value.__cause__)
    got = []
    with pytest.raises(ZeroDivisionError):
        for value in pool.imap(divide, [1, 2, 0, 4], chunksize=1):
            got.append(value)
    assert got == [10.0, 5.0]
    assert pool.map(divide, [5]) == [2.0]  # still usable


def test_what_cannot_travel_fails_its_own_task(make_pool):
    pool = make_pool()
    with pytest.raises(cerial.SerializationError) as info:
        pool.map(len, [b"a", memoryview(b"b"), b"c"], chunksize=3)
    assert any("task 1" in note for note in info.value.__notes__)
    with pytest.raises(cerial.SerializationError) as info:
        pool.map(lambda x: memoryview(b"x") if x == 2 else x, range(4), chunksize=4)
    assert any("could not be sent back" in note for note in info.value.__notes__)
    assert pool.map(abs, [-1]) == [1]


def test_large_bytes_results(make_pool):
    pool = make_pool()
    out = pool.map(lambda n: bytes([n]) * 300_000, range(6))
    assert [len(b) for b in out] == [300_000] * 6
    assert [b[0] for b in out] == list(range(6))


def test_chunksize_override(make_pool):
    pool = make_pool(chunksize=7)
    assert pool.map(lambda x: x * 2, range(100), chunksize=3) == [x * 2 for x in range(100)]
    assert pool.map(lambda x: x * 2, range(100)) == [x * 2 for x in range(100)]


def test_timeout_stops_the_call(make_pool):
    pool = make_pool()
    began = time.monotonic()
    with pytest.raises(PoolTimeoutError):
        pool.map.timeout(0.5)(time.sleep, [30, 30])
    assert time.monotonic() - began < 10
    assert pool.map.timeout(TIMEOUT)(abs, [-1, -2]) == [1, 2]


def test_background_and_asynced(make_pool):
    pool = make_pool()
    future = pool.map.background()(lambda x: x + 1, range(10))
    assert future.result(timeout=TIMEOUT) == list(range(1, 11))
    future = pool.unordered_imap.background()(lambda x: x, range(10))
    assert sorted(future.result(timeout=TIMEOUT)) == list(range(10))

    async def main():
        return await asyncio.wait_for(pool.imap.asynced()(lambda x: x * x, range(5)), TIMEOUT)

    assert asyncio.run(main()) == [0, 1, 4, 9, 16]


def test_skprocess_classes_run_as_tasks(make_pool):
    pool = make_pool()
    assert pool.map(Counter, ["a", "b", "c"]) == [("a", 3, 3), ("b", 3, 3), ("c", 3, 3)]
    with pytest.raises(RunError) as info:
        pool.map(Fails, [1])
    assert isinstance(info.value.original_error, ValueError)


def test_several_threads_share_one_pool(make_pool):
    pool = make_pool()
    results: dict[int, list[int]] = {}

    def call(n):
        results[n] = pool.map(lambda x, n=n: x + n, range(100))

    run_threads(call, [(n,) for n in range(4)])
    assert results == {n: [x + n for x in range(100)] for n in range(4)}


def test_close_then_join(make_pool):
    pool = make_pool()
    assert pool.map(abs, [-3]) == [3]
    pool.close()
    assert pool.join(TIMEOUT)
    assert pool.state == "closed"
    with pytest.raises(Exception, match="closed"):
        pool.map(abs, [1])


def test_pool_type_checks_are_the_same(make_pool):
    pool = make_pool()
    with pytest.raises(TypeError, match="function"):
        pool.map(42, [1])
    assert isinstance(pool, Pool)


def test_imap_keeps_a_bounded_amount_of_work_ahead(make_pool):
    pool = make_pool()
    pulled = 0

    def endless():
        nonlocal pulled
        while True:
            pulled += 1
            yield pulled

    def slow_identity(x):
        time.sleep(0.001)  # a known cost: chunks (and the window) stay small
        return x

    results = pool.imap(slow_identity, endless())
    assert [next(results) for _ in range(10)] == list(range(1, 11))
    assert pulled < 2000  # the input is read a window at a time, not drained
    results.close()


def test_terminate_fails_a_waiting_call(make_pool):
    pool = make_pool()
    future = pool.map.background()(time.sleep, [30, 30])
    time.sleep(0.2)  # let the call start (a call not yet started fails the same way)
    pool.terminate()
    with pytest.raises(BrokenPoolError):
        future.result(timeout=TIMEOUT)
    assert pool.state == "terminated"


def test_close_lets_running_calls_finish(make_pool):
    pool = make_pool()
    future = pool.map.background()(lambda x: x * 3, range(50))
    pool.close()
    assert pool.join(TIMEOUT)
    assert future.result(timeout=TIMEOUT) == [x * 3 for x in range(50)]
