"""Many processes at once: no lost update, read-your-writes, reads after completed
writes, method calls on the one object. Every test runs under fork, forkserver and
spawn (the coordinator and the writers use the same start method)."""

from __future__ import annotations

import threading

import pytest
from _support import TIMEOUT
from test_share_support import (
    Slow,
    add_many,
    add_many_through_self,
    append_many,
    ctx,
    every_form,
    join_all,
    own_writes,
    start_all,
    write_then_tell,
)

from suitkaise.processing._share import Share
from suitkaise.timing import Sktimer


class Box:
    """A plain object with a counter attribute (``share.obj.hits += 1``)."""

    def __init__(self):
        self.hits = 0


@pytest.fixture
def share(start_method):
    share = Share()
    yield share
    share.exit()


def test_counter_from_4_processes_x_10000_is_exact(share):
    share.counter = 0
    join_all(start_all(add_many, [(share, 10_000)] * 4))
    assert share.counter == 40_000


def test_every_augmented_form_from_3_processes_is_exact(share):
    n, procs = 1000, 3
    share.up, share.down, share.items, share.text = 0, 0, [], ""
    share.d = {"k": 0}
    share.obj = Box()
    share.bits, share.product = 0, 1
    join_all(start_all(every_form, [(share, n, i) for i in range(procs)]))
    assert share.up == n * procs
    assert share.down == -2 * n * procs
    assert len(share.items) == n * procs
    assert sorted(share.items) == sorted(i for i in range(procs) for _ in range(n))
    assert share.text == "ab" * n * procs
    assert share.d["k"] == n * procs
    assert share.obj.hits == n * procs
    assert share.bits == (1 << procs) - 1
    assert share.product == 2 ** (3 * procs)


def test_self_share_counter_form_is_exact(share):
    share.counter = 0
    join_all(start_all(add_many_through_self, [(share, 3000)] * 2))
    assert share.counter == 6000


def test_method_calls_from_many_processes_run_on_one_object(share):
    share.items = []
    share.timer = Sktimer()
    join_all(start_all(append_many, [(share, 300, tag) for tag in range(3)]))
    assert len(share.items) == 900
    assert sorted(share.items) == [(tag, i) for tag in range(3) for i in range(300)]
    for tag in range(3):  # each process's calls stay in its own order
        assert [i for t, i in share.items if t == tag] == list(range(300))
    assert share.timer.num_times == 900 and share.timer.mean == 0.5


def test_each_process_reads_its_own_writes_at_once(share):
    share.total = 0
    errors = ctx().Queue()
    procs = start_all(own_writes, [(share, f"v{i}", 1000, errors) for i in range(2)])
    bad = [errors.get(timeout=TIMEOUT) for _ in procs]
    join_all(procs)
    assert bad == [0, 0]
    assert share.total == 2000


def test_a_read_begun_after_a_write_completed_sees_it(share):
    share.value = -1
    for n in (1, 50, 2000):
        done = ctx().Event()
        procs = start_all(write_then_tell, [(share, done, n)])
        assert done.wait(TIMEOUT)
        # The writer's last write completed before done was set, and this read began
        # after: it must see it, though the writer never waited for a reply.
        assert share.value == n - 1
        join_all(procs)


def test_a_read_queued_behind_completed_writes_sees_them():
    # Force the race: the coordinator is busy in a slow method while a writer's writes
    # and then this process's read pile up in its sockets; the read must see them.
    share = Share()
    try:
        share.slow = Slow()
        share.value = -1
        for n in (1, 500):
            pause = threading.Thread(target=share.slow.pause, args=(0.2,))
            pause.start()
            done = ctx().Event()
            procs = start_all(write_then_tell, [(share, done, n)])
            assert done.wait(TIMEOUT)
            assert share.value == n - 1
            pause.join(TIMEOUT)
            join_all(procs)
    finally:
        share.exit()


def test_exit_applies_every_completed_write(share):
    share.counter = 0
    join_all(start_all(add_many, [(share, 5000)] * 2))
    share.exit()  # no read in between: the writes may still sit in socket buffers
    assert share.counter == 10_000
    share.start()
    join_all(start_all(add_many, [(share, 100)]))  # children reconnect after start()
    assert share.counter == 10_100
