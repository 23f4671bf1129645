"""Pool's calls: map, imap, unordered_imap, star(), the modifiers, chunking, lifetime."""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import math
import os
import sys
import threading
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import pytest
from _support import TIMEOUT, run_threads
from test_pool_support import make_pool, wait_for

from suitkaise import cerial
from suitkaise.processing import ProcessError
from suitkaise.processing._errors import RemoteTraceback
from suitkaise.processing._pool import (
    BrokenPoolError,
    Pool,
    PoolClosedError,
    PoolTimeoutError,
    WorkerDiedError,
)
from suitkaise.processing._pool._fnbytes import function_bytes
from suitkaise.processing._pool._job import Chunk, Job
from suitkaise.sk import SkModifierError


def double(x):
    return x * 2


def add(a, b=0):
    return a + b


def count_args(*args):
    return len(args)


def pid_of(_):
    return os.getpid()


def fail_on_three(x):
    if x == 3:
        raise KeyError(f"no key {x}")
    return x


# ------------------------------------------------------------------------ the calls


def test_map_returns_results_in_input_order(pool):
    assert pool.map(double, range(100)) == [x * 2 for x in range(100)]
    assert pool.map(double, [3, 1, 2]) == [6, 2, 4]
    assert pool.map(double, (5,)) == [10]
    assert pool.map(double, []) == []
    assert pool.map(double, iter([])) == []


def test_lambdas_and_closures_travel_by_value(pool):
    offset = 10

    def shifted(x):
        return x + offset

    assert pool.map(lambda x: x ** 2, range(5)) == [0, 1, 4, 9, 16]
    assert pool.map(shifted, [1, 2]) == [11, 12]


LIMIT = 5
SEEN: list[int] = []


def test_a_task_function_is_serialized_again_when_it_changes(pool):
    def scale(x, factor=2):
        return x * factor + LIMIT

    assert pool.map(scale, [1, 2]) == [7, 9]
    scale.__defaults__ = (3,)
    assert pool.map(scale, [1, 2]) == [8, 11]
    scale.__dict__["note"] = "a __dict__ of its own"
    assert pool.map(scale, [1, 2]) == [8, 11]


def test_function_bytes_are_kept_only_while_every_change_shows():
    global LIMIT

    def kept(x, factor=2):
        return math.floor(x * factor) + LIMIT

    first = function_bytes(kept)
    assert function_bytes(kept) is first  # nothing changed: the same bytes
    kept.__defaults__ = (3,)
    second = function_bytes(kept)
    assert second is not first and function_bytes(kept) is second
    LIMIT, before = 6, LIMIT
    try:
        assert function_bytes(kept) is not second  # a global it uses was rebound
    finally:
        LIMIT = before

    offset = 1

    def closure(x):
        return x + offset

    def uses_a_list(x):
        SEEN.append(x)

    def annotated(x: int) -> int:
        return x

    for fn in (closure, uses_a_list, annotated, lambda x, d=[]: d):  # noqa: B006
        assert function_bytes(fn) is not function_bytes(fn)  # made anew every time
        assert function_bytes(fn) == cerial.serialize(fn)


def test_function_bytes_see_a_global_come_and_go():
    namespace = {"__name__": "__main__", "A": 1}
    exec("def either():\n    return A if 'A' in globals() else B\n", namespace)
    fn = namespace["either"]
    first = function_bytes(fn)
    del namespace["A"]
    namespace["B"] = 1  # the same value under another name
    assert function_bytes(fn) is not first
    assert function_bytes(fn) == cerial.serialize(fn)


def test_function_bytes_see_a_function_stop_travelling_by_name(monkeypatch):
    original = double
    by_name = function_bytes(original)  # importable: it travels by name
    monkeypatch.setattr(sys.modules[__name__], "double", lambda x: -x)
    by_value = function_bytes(original)  # its name leads elsewhere now
    assert by_value is not by_name and by_value == cerial.serialize(original)


def test_imap_yields_in_order_and_unordered_yields_everything(pool):
    it = pool.imap(double, iter(range(50)))
    assert next(it) == 0
    assert list(it) == [x * 2 for x in range(1, 50)]
    assert sorted(pool.unordered_imap(double, range(50))) == [x * 2 for x in range(50)]
    assert list(pool.imap(double, [])) == []


def test_star_unpacks_tuples_only(pool):
    items = [(1, 2), [3, 4], 5, (6,), ()]
    assert pool.map(count_args, items) == [1, 1, 1, 1, 1]
    assert pool.star().map(count_args, items) == [2, 1, 1, 1, 0]
    assert pool.star().map(add, [(1, 2), (3, 4)]) == [3, 7]
    assert list(pool.star().imap(add, [(1, 2), (3, 4)])) == [3, 7]
    assert sorted(pool.star().unordered_imap(add, [(1, 2), (3, 4)])) == [3, 7]
    assert pool.star().map(add, zip([1, 2], [10, 20], strict=True)) == [11, 22]
    assert pool.star().star().map(add, [(1, 2)]) == [3]


def test_a_star_call_with_a_list_item_says_why_it_failed(pool):
    with pytest.raises(TypeError) as info:
        pool.star().map(pow, [[2, 3]])
    assert any("star() unpacks tuples only" in note and "of type list" in note
               for note in info.value.__notes__)


def test_map_accepts_any_iterable(pool):
    assert pool.map(double, {1: "a", 2: "b"}) == [2, 4]
    assert pool.map(double, (x for x in range(5))) == [0, 2, 4, 6, 8]
    assert pool.map(str.upper, "ab") == ["A", "B"]
    with pytest.raises(TypeError):
        pool.map(double, 5)


def test_not_callable_is_refused(pool):
    with pytest.raises(TypeError, match="needs a function"):
        pool.map(42, [1])


def test_an_skprocess_instance_is_refused_with_the_fix(pool):
    from suitkaise.processing import Skprocess

    class Job(Skprocess):
        def __run__(self):
            pass

    with pytest.raises(TypeError, match="takes an Skprocess class, not an instance"):
        pool.map(Job(), [1])


def test_unserializable_function_names_itself(pool):
    view = memoryview(b"cannot travel")

    def uses_view(x):
        return view[x]

    with pytest.raises(cerial.SerializationError) as info:
        pool.map(uses_view, [1])
    assert any("uses_view" in note for note in info.value.__notes__)


def test_unserializable_argument_fails_that_task(pool):
    with pytest.raises(cerial.SerializationError) as info:
        pool.map(len, [b"a", memoryview(b"b"), b"c"], chunksize=3)
    assert any("task 1" in note for note in info.value.__notes__)
    assert pool.map(double, [1]) == [2]


# --------------------------------------------------------------------- modifiers


def test_timeout_modifier_returns_normally_when_fast(pool):
    assert pool.map.timeout(TIMEOUT)(double, [1, 2]) == [2, 4]
    assert list(pool.imap.timeout(TIMEOUT)(double, [1, 2])) == [2, 4]
    assert sorted(pool.unordered_imap.timeout(TIMEOUT)(double, [1, 2])) == [2, 4]
    assert pool.star().map.timeout(TIMEOUT)(add, [(1, 1)]) == [2]


def test_background_modifier_returns_futures(pool):
    futures = [
        pool.map.background()(double, range(4)),
        pool.imap.background()(double, range(4)),
        pool.unordered_imap.background()(double, range(4)),
    ]
    assert all(isinstance(f, Future) for f in futures)
    assert futures[0].result(TIMEOUT) == [0, 2, 4, 6]
    assert futures[1].result(TIMEOUT) == [0, 2, 4, 6]
    assert sorted(futures[2].result(TIMEOUT)) == [0, 2, 4, 6]
    bad = pool.map.background()(fail_on_three, range(5))
    with pytest.raises(KeyError):
        bad.result(TIMEOUT)


def test_asynced_modifier_is_awaitable(pool):
    async def main():
        return await asyncio.gather(
            pool.map.asynced()(double, range(3)),
            pool.imap.asynced()(double, range(3)),
            pool.unordered_imap.asynced()(double, range(3)),
            pool.star().map.asynced()(add, [(1, 2)]),
        )

    a, b, c, d = asyncio.run(asyncio.wait_for(main(), TIMEOUT))
    assert a == b == [0, 2, 4] and sorted(c) == [0, 2, 4] and d == [3]


def slow_items(count: int, pause: float, pulled: list[int]):
    for i in range(count):
        time.sleep(pause)
        pulled.append(i)
        yield i


@pytest.mark.parametrize("call", ["map", "imap", "unordered_imap"])
def test_a_timeout_bounds_the_reading_of_a_slow_input(pool, call):
    pulled: list[int] = []
    with pytest.raises(PoolTimeoutError):
        list(getattr(pool, call).timeout(0.3)(double, slow_items(100, 0.05, pulled)))
    assert len(pulled) < 50  # (all 100 take 5 s) it stopped at about the time asked


def gated_items(gate: threading.Event, waited: list[bool]):
    yield 1
    waited.append(gate.wait(5.0))  # False: nobody opened the gate (the caller was stuck)
    yield 2


@pytest.mark.parametrize("call", ["map", "imap", "unordered_imap"])
def test_background_returns_before_the_input_is_read(pool, call):
    gate, waited = threading.Event(), []
    future = getattr(pool, call).background()(double, gated_items(gate, waited))
    gate.set()
    assert sorted(future.result(TIMEOUT)) == [2, 4]
    assert waited == [True]


def test_asynced_leaves_the_event_loop_free_while_the_input_waits(pool):
    gate, waited = threading.Event(), []

    async def main():
        async def open_gate():
            gate.set()

        opener = asyncio.ensure_future(open_gate())
        results = await pool.map.asynced()(double, gated_items(gate, waited))
        await opener
        return results

    assert asyncio.run(asyncio.wait_for(main(), TIMEOUT)) == [2, 4]
    assert waited == [True]


def test_a_timeout_does_not_fire_once_the_work_is_done(pool):
    for _ in pool.imap.timeout(0.2)(double, [1]):
        time.sleep(0.4)  # past the limit, with nothing left to do
    assert pool.map.timeout(0)(double, []) == []
    assert list(pool.unordered_imap.timeout(0)(double, [])) == []


def test_wrong_modifier_arguments_name_the_call(pool):
    with pytest.raises(TypeError, match=r"map\.timeout\(\): missing a required argument"):
        pool.map.timeout()
    with pytest.raises(TypeError, match=r"imap\.background\(\): too many"):
        pool.imap.background(1)


def test_other_modifiers_are_refused(pool):
    with pytest.raises(SkModifierError, match="map"):
        pool.map.retry
    with pytest.raises(SkModifierError):
        pool.imap.rate_limit


# ------------------------------------------------------------------------ chunking


def test_workers_are_persistent(pool):
    first = set(pool.map(pid_of, range(50), chunksize=1))
    second = set(pool.map(pid_of, range(50), chunksize=1))
    assert first | second <= set(pool.worker_pids)
    assert len(pool.worker_pids) == 2


def test_chunksize_override_keeps_tasks_together(pool):
    pids = pool.map(pid_of, range(12), chunksize=4)
    for start in (0, 4, 8):
        assert len(set(pids[start:start + 4])) == 1


def test_tiny_tasks_are_chunked(pool):
    pool.map(double, range(2000))  # learn the function's cost
    before = next(Chunk._ids)
    assert pool.map(double, range(20_000)) == [x * 2 for x in range(20_000)]
    chunks = next(Chunk._ids) - before - 1
    assert chunks < 100, chunks


def test_large_results_come_back_whole(pool):
    results = pool.map(bytes, [1 << 20, 5, 300_000])
    assert [len(r) for r in results] == [1 << 20, 5, 300_000]
    mixed = pool.map(lambda n: (n, bytes(n)) if n % 2 else bytes(n), [100_000, 3, 200_000])
    assert mixed[0] == bytes(100_000) and mixed[1] == (3, bytes(3)) and mixed[2] == bytes(200_000)


def test_bad_chunksize_is_refused(pool):
    with pytest.raises(ValueError):
        pool.map(double, [1], chunksize=0)
    with pytest.raises(TypeError):
        pool.map(double, [1], chunksize=1.5)


# ------------------------------------------------------------------- laziness


def test_imap_takes_an_endless_generator(pool):
    first = list(itertools.islice(pool.imap(double, itertools.count()), 5000))
    assert first == [x * 2 for x in range(5000)]
    some = list(itertools.islice(pool.unordered_imap(double, itertools.count()), 100))
    assert len(some) == 100


def test_imap_reads_its_input_lazily(pool):
    pulled = []

    def source():
        for i in itertools.count():
            pulled.append(i)
            yield i

    it = pool.imap(double, source(), chunksize=10)
    assert [next(it) for _ in range(5)] == [0, 2, 4, 6, 8]
    # At most a window (4 chunks per worker) beyond what was consumed.
    assert wait_for(lambda: len(pulled) > 0)
    assert len(pulled) <= 5 + 2 * 4 * 10 + 64
    it.close()


@pytest.mark.parametrize("call", ["imap", "unordered_imap"])
def test_results_flow_while_the_input_waits_for_them(pool, call):
    # An input whose next item waits for the first result (a feedback loop; or a slow
    # stream): the caller gets that result without waiting for the input.
    got_first = threading.Event()

    def source():
        yield 1
        assert got_first.wait(TIMEOUT), "the first result never came"
        yield from range(2, 5)

    it = getattr(pool, call).timeout(TIMEOUT)(double, source())
    assert next(it) == 2
    got_first.set()
    assert sorted(it) == [4, 6, 8]


REQUEST: contextvars.ContextVar[str] = contextvars.ContextVar("REQUEST", default="unset")


def test_the_input_of_imap_sees_the_callers_context_variables(pool):
    token = REQUEST.set("set by the caller")
    try:
        for call in ("imap", "unordered_imap", "map"):
            tags = getattr(pool, call)(str, (REQUEST.get() for _ in range(3)))
            assert list(tags) == ["set by the caller"] * 3, call
    finally:
        REQUEST.reset(token)


def test_a_thread_bound_input_works_with_map_and_explains_itself_with_imap(pool):
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.execute("create table t (x)")
    db.executemany("insert into t values (?)", [(i,) for i in range(5)])
    assert pool.map(sum, db.execute("select x from t")) == list(range(5))
    with pytest.raises(sqlite3.ProgrammingError, match="same thread"):
        list(pool.imap(sum, db.execute("select x from t")))
    assert list(pool.imap(sum, list(db.execute("select x from t")))) == list(range(5))
    db.close()


def test_a_call_the_pool_cannot_finish_pulls_no_more_input():
    pulled = []
    blocked = threading.Event()
    go = threading.Event()

    def source():
        for i in itertools.count():
            if i == 1:
                blocked.set()
                assert go.wait(TIMEOUT)
            pulled.append(i)
            yield i

    lock = threading.Lock()
    job = Job(lock=lock, wake=lambda: None, workers=1, fn_bytes=b"", flags=0,
              iterable=source(), ordered=True, chunksize=1, windowed=True, label="imap")
    job.prefill()  # the feeder thread
    assert blocked.wait(TIMEOUT)  # it waits for the input's second item
    with lock:
        job.fail(BrokenPoolError("the pool stopped"))
    go.set()
    assert wait_for(lambda: not [t for t in threading.enumerate()
                                 if t.name == "suitkaise-pool-imap-input"])
    assert pulled == [0, 1]  # the item it waited for, and no more


def note_run(arg):
    index, folder = arg
    with open(os.path.join(folder, f"ran-{index}"), "w") as f:
        f.write("x")
    return index


@pytest.mark.parametrize("call", ["imap", "unordered_imap"])
def test_each_item_of_a_slow_input_is_handed_over_as_it_comes(pool, call, tmp_path):
    # The next item comes only once the one before has run: the items must reach the
    # workers one by one as they come, not in batches.
    def source():
        for i in range(4):
            yield i, str(tmp_path)
            assert wait_for(lambda i=i: (tmp_path / f"ran-{i}").exists()), f"{i} did not run"

    results = getattr(pool, call).timeout(TIMEOUT)(note_run, source())
    assert sorted(results) == list(range(4))


def test_map_starts_work_while_its_input_waits(pool, tmp_path):
    # map pulls its input in growing batches, but hands over what it has while an
    # item is slow to come: here the second item waits until the first has run.
    def source():
        yield 0, str(tmp_path)
        assert wait_for(lambda: (tmp_path / "ran-0").exists()), "0 did not run"
        for i in range(1, 100):
            yield i, str(tmp_path)

    assert pool.map.timeout(TIMEOUT)(note_run, source()) == list(range(100))


def wait_for_go(arg):
    index, folder = arg
    if index == 0:
        wait_for(lambda: os.path.exists(os.path.join(folder, "go")), interval=0.005)
    return index


def test_unordered_imap_yields_each_result_as_soon_as_ready(pool, tmp_path):
    items = [(0, str(tmp_path)), (1, str(tmp_path)), (2, str(tmp_path))]
    results = pool.unordered_imap.timeout(TIMEOUT)(wait_for_go, items, chunksize=1)
    assert {next(results), next(results)} == {1, 2}  # while task 0 still waits
    (tmp_path / "go").write_text("go")
    assert list(results) == [0]


def test_memory_stays_flat_with_large_items(pool):
    pulled = []

    def source():
        for i in itertools.count():
            pulled.append(i)
            yield bytes(100_000)

    it = pool.imap(len, source())
    for consumed in range(1, 301):
        assert next(it) == 100_000
        # Chunks carry about a megabyte: the work ahead of the caller stays a few MB.
        assert len(pulled) - consumed <= 200
    it.close()


def test_imap_can_feed_on_another_imap_of_the_same_pool(pool):
    inner = pool.imap(double, range(300))
    assert list(pool.imap(double, inner)) == [x * 4 for x in range(300)]
    assert sorted(pool.unordered_imap(double, pool.unordered_imap(double, range(50)))) == [
        x * 4 for x in range(50)
    ]


def nested_map(n):
    inner = Pool(1, start_method="fork")
    try:
        return inner.map(double, range(n))
    finally:
        inner.close()
        inner.join(TIMEOUT)


def test_a_task_may_use_a_pool_of_its_own(pool):
    assert pool.map(nested_map, [2, 3], chunksize=1) == [[0, 2], [0, 2, 4]]


def test_input_error_is_raised_in_place(pool):
    def source():
        yield 1
        yield 2
        raise OSError("disk gone")

    it = pool.imap(double, source())
    assert next(it) == 2
    assert next(it) == 4
    with pytest.raises(OSError, match="disk gone"):
        next(it)
    with pytest.raises(OSError, match="disk gone"):
        pool.map(double, source())


# -------------------------------------------------------------------- errors


def test_task_exception_keeps_its_type_and_remote_traceback(pool):
    with pytest.raises(KeyError, match="no key 3") as info:
        pool.map(fail_on_three, range(10))
    cause = info.value.__cause__
    assert isinstance(cause, RemoteTraceback)
    assert "fail_on_three" in str(cause) and "KeyError" in str(cause)
    assert pool.map(double, [1]) == [2]


def fail_after_signalling(arg):
    index, folder = arg
    flag = os.path.join(folder, "failed")
    if index == 1:
        open(flag, "w").close()
        raise ValueError("task 1 fails first")
    wait_for(lambda: os.path.exists(flag), interval=0.005)
    return index


def test_failure_that_arrives_before_earlier_results(pool, tmp_path):
    # Task 1's error reaches the parent before task 0's result; map must still wake
    # up for task 0 and then raise task 1's error.
    items = [(i, str(tmp_path)) for i in range(4)]  # tasks 2, 3: never sent after the failure
    with pytest.raises(ValueError, match="task 1 fails first"):
        pool.map.timeout(TIMEOUT)(fail_after_signalling, items, chunksize=1)


def test_imap_yields_results_before_the_failure(pool):
    it = pool.imap(fail_on_three, range(10), chunksize=2)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(KeyError):
        next(it)
    got = []
    with pytest.raises(KeyError):
        for value in pool.unordered_imap(fail_on_three, range(10)):
            got.append(value)
    assert 3 not in got


def test_unserializable_result_fails_that_task(pool):
    with pytest.raises(cerial.SerializationError) as info:
        pool.map(lambda x: memoryview(b"x") if x == 2 else x, range(4), chunksize=4)
    assert any("could not be sent back" in note for note in info.value.__notes__)
    assert pool.map(double, [1]) == [2]


def test_error_classes_extend_the_stdlib():
    for error in (WorkerDiedError, BrokenPoolError):
        assert issubclass(error, ProcessError) and issubclass(error, BrokenProcessPool)
    assert issubclass(PoolTimeoutError, TimeoutError)
    assert issubclass(PoolClosedError, RuntimeError)
    e = WorkerDiedError("x", worker=2, pid=7, exitcode=-11, tasks=range(4, 5))
    again = cerial.deserialize(cerial.serialize(e))
    assert (again.signal, again.task, again.worker, str(again)) == ("SIGSEGV", 4, 2, "x")


# -------------------------------------------------------------------- lifetime


def test_close_join_and_context_manager():
    with make_pool() as p:
        pids = p.worker_pids
        assert p.map(double, [1]) == [2]
    assert p.state == "closed"
    assert p.join(TIMEOUT)
    assert not [pid for pid in pids if _alive(pid)]
    with pytest.raises(PoolClosedError):
        p.map(double, [1])
    with pytest.raises(PoolClosedError):
        with p:
            pass


def test_a_refused_call_draws_no_progress_bar(capfd):
    p = make_pool(workers=1, progress="always")
    p.close()
    assert p.join(TIMEOUT)
    with pytest.raises(PoolClosedError):
        p.map(double, range(10))
    assert capfd.readouterr().err == ""


def test_join_needs_close_first():
    p = make_pool(workers=1)
    try:
        with pytest.raises(ValueError, match="close"):
            p.join(0.1)
    finally:
        p.close()
        assert p.join(TIMEOUT)


def test_close_lets_background_work_finish():
    p = make_pool(workers=1)
    future = p.map.background()(double, range(200))
    p.close()
    assert p.join(TIMEOUT)
    assert future.result(TIMEOUT) == [x * 2 for x in range(200)]


def test_terminate_fails_waiting_calls():
    p = make_pool(workers=1)
    future = p.map.background()(time.sleep, [TIMEOUT])
    assert wait_for(lambda: p.worker_pids)
    p.terminate()
    with pytest.raises(BrokenPoolError, match="terminated"):
        future.result(TIMEOUT)
    assert p.state == "terminated"


def test_workers_none_means_cpu_count():
    p = Pool(start_method="fork")
    try:
        assert p.workers == (os.cpu_count() or 1)
    finally:
        p.terminate()


def test_bad_arguments_are_refused():
    for bad, error in ((0, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(error):
            Pool(bad)
    with pytest.raises(TypeError, match="cluster must be"):
        Pool(1, cluster=["tcp://127.0.0.1:8786"])
    with pytest.raises(ValueError, match="progress"):
        Pool(1, progress="sometimes")
    with pytest.raises(ValueError):
        Pool(1, max_tasks_per_worker=0)
    with pytest.raises(ValueError, match="fork, forkserver, spawn"):
        Pool(1, start_method="bogus")
    p = make_pool(workers=1)
    try:
        with pytest.raises(TypeError, match="join"):
            p.join("soon")
    finally:
        p.terminate()


def test_usable_from_several_threads(pool):
    results = {}

    def work(n):
        results[n] = pool.map(lambda x, n=n: x + n, range(300))

    run_threads(work, [(n,) for n in range(4)])
    assert results == {n: [x + n for x in range(300)] for n in range(4)}


def test_pool_made_in_a_thread_outlives_the_thread():
    made = {}
    thread = threading.Thread(target=lambda: made.update(pool=make_pool("fork")))
    thread.start()
    thread.join(TIMEOUT)
    p = made["pool"]
    try:
        # The workers were started by the pool's own thread, not the one that ended.
        assert p.map(double, range(10), chunksize=1) == [x * 2 for x in range(10)]
        assert wait_for(lambda: len(p.worker_pids) == 2)
    finally:
        p.close()
        assert p.join(TIMEOUT)


def test_max_tasks_per_worker_recycles_workers():
    with make_pool(workers=1, max_tasks_per_worker=3) as p:
        pids = p.map(pid_of, range(9), chunksize=1)
        assert [len(set(pids[i:i + 3])) for i in (0, 3, 6)] == [1, 1, 1]
        assert len(set(pids)) == 3
        # A chunk never exceeds the worker's remaining budget.
        pids = p.map(pid_of, range(7))
        assert all(pids.count(pid) <= 3 for pid in pids)


def test_pool_cannot_be_serialized(pool):
    with pytest.raises(Exception, match="cannot be sent"):
        cerial.serialize(pool)


def test_inherited_pool_is_refused_in_a_forked_child(pool):
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            pool.map(double, [1])
        except PoolClosedError:
            os._exit(0)
        except BaseException:
            os._exit(2)
        os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_forked_children_do_not_keep_pool_sockets(pool):
    assert pool.map(double, range(4)) == [0, 2, 4, 6]
    assert wait_for(lambda: len(pool.worker_pids) == 2)
    socks = [s.proc.sock for s in pool._backend._slots if s is not None]
    socks += [pool._backend._wake_r, pool._backend._wake_w]
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os._exit(0 if all(s.fileno() == -1 for s in socks) else 3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert all(s.fileno() != -1 for s in socks)


# ------------------------------------------------------------------- progress


def test_progress_bar_is_opt_in(pool, capfd):
    pool.map(double, range(10))
    pool.map(double, range(10), progress=True)  # stderr is not a terminal here
    assert "task" not in capfd.readouterr().err
    pool.map(double, range(10), progress="always")
    assert "10/10" in capfd.readouterr().err


def test_exports():
    import suitkaise.processing._pool as package

    assert isinstance(package.__all__, tuple) and len(set(package.__all__)) == len(package.__all__)
    for name in package.__all__:
        assert getattr(package, name).__doc__, name


def _alive(pid):
    from test_pool_support import alive

    return alive(pid)
