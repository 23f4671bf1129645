"""Share in one process: values, proxies, method calls, exit/start/clear, errors.

Every request still goes through the coordinator process, so these tests cover the
protocol end to end; the multi-process guarantees are in test_share_concurrency.
"""

from __future__ import annotations

import copy
import pickle
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import pytest
from _support import TIMEOUT, run_threads

from suitkaise import cerial
from suitkaise.processing._share import CoordinatorDiedError, Share, ShareClosedError, ShareError
from suitkaise.processing._share._proxy import Proxy
from suitkaise.timing import Sktimer


@dataclass
class Point:
    x: int = 0
    y: int = 0
    tags: list[str] = field(default_factory=list)

    def move(self, dx: int, dy: int = 0) -> tuple[int, int]:
        self.x += dx
        self.y += dy
        return (self.x, self.y)


@pytest.fixture(scope="module")
def module_share():
    share = Share()
    yield share
    share.exit()


@pytest.fixture
def share(module_share):
    module_share.clear()
    return module_share


def test_immutable_values_come_back_as_plain_values(share):
    values = {
        "none": None, "flag": True, "number": 42, "big": 10**40, "real": 2.5, "cx": 1 + 2j,
        "text": "héllo", "raw": b"\x00\xff", "pair": (1, "a", (2.0,)), "frozen": frozenset({1, 2}),
        "span": range(3),
    }
    for name, value in values.items():
        setattr(share, name, value)
    for name, value in values.items():
        got = getattr(share, name)
        assert got == value and type(got) is type(value), name
    assert share.number + 1 == 43


def test_mutable_objects_come_back_as_proxies_to_the_one_object(share):
    share.items = [1, 2, 3]
    items = share.items
    assert type(items) is Proxy
    items.append(4)
    share.items.extend([5, 6])
    assert share.items == [1, 2, 3, 4, 5, 6]
    assert len(items) == 6 and 4 in items and 9 not in items
    assert list(items) == [1, 2, 3, 4, 5, 6] and list(reversed(items))[0] == 6
    assert items[0] == 1 and items[-1] == 6 and items[1:3] == [2, 3]
    items[0] = 10
    del items[1]
    assert share.items.pop() == 6
    assert str(share.items) == "[10, 3, 4, 5]"
    assert "[10, 3, 4, 5]" in repr(share.items)
    assert share.items + [0] == [10, 3, 4, 5, 0] and [0] + share.items == [0, 10, 3, 4, 5]
    assert bool(share.items) and share.items.index(4) == 2
    share.items.sort(key=lambda v: -v)  # a lambda argument travels with cerial
    assert list(share.items) == [10, 5, 4, 3]


def test_dicts_nested_objects_and_item_paths(share):
    share.d = {"a": {"inner": [1]}, "n": 0}
    share.d["b"] = 2
    share.d["a"]["inner"].append(2)  # a path: d -> "a" -> "inner"
    assert share.d["a"]["inner"] == [1, 2]
    assert sorted(share.d.keys()) == ["a", "b", "n"]  # views come back as lists
    assert share.d.get("missing", "default") == "default"
    del share.d["b"]
    assert "b" not in share.d and dict(share.d.items())["n"] == 0
    share.od = OrderedDict(x=1)
    share.od.move_to_end("x")
    assert list(share.od) == ["x"]


def test_method_calls_run_on_the_real_object(share):
    share.timer = Sktimer()
    share.timer.add_time(0.5)
    share.timer.add_time(1.5)
    assert share.timer.num_times == 2
    assert share.timer.mean == 1.0  # the live value, read in the coordinator
    timer = share.timer
    timer.add_time(3.0)
    assert share.timer.max == 3.0 and timer.total_time == 5.0
    share.point = Point()
    assert share.point.move(2, dy=3) == (2, 3)
    share.point.tags.append("moved")
    share.point.x = 7
    assert (share.point.x, share.point.y, share.point.tags) == (7, 3, ["moved"])
    assert share.point == Point(7, 3, ["moved"])


def test_functions_and_classes_come_back_by_value(share):
    share.double = lambda v: 2 * v
    share.kind = Point
    assert share.double(21) == 42
    assert share.kind is Point


def test_augmented_assignment_forms(share):
    share.n = 10
    share.n += 5
    share.n -= 3
    share.n *= 2
    share.n //= 5
    share.n **= 2
    share.n %= 7
    share.n <<= 3
    share.n >>= 1
    share.n |= 1
    share.n &= 0b1101
    share.n ^= 0b10
    assert share.n == ((((((((10 + 5 - 3) * 2) // 5) ** 2) % 7) << 3) >> 1 | 1) & 0b1101) ^ 0b10
    share.f = 1.0
    share.f /= 4
    assert share.f == 0.25
    share.s = "a"
    share.s += "b"
    share.s *= 2
    assert share.s == "abab"
    share.items = [1]
    items_before = share.items
    share.items += [2]
    share.items *= 2
    assert share.items == [1, 2, 1, 2] and items_before == [1, 2, 1, 2]
    share.bits = {1}
    share.bits |= {2}
    share.bits -= {1}
    assert share.bits == {2}
    share.d = {"k": 1, "l": []}
    share.d["k"] += 1
    share.d["l"] += ["x"]
    assert share.d == {"k": 2, "l": ["x"]}
    share.point = Point()
    share.point.x += 4
    share.point.tags += ["t"]
    assert share.point.x == 4 and share.point.tags == ["t"]


def test_augmented_assignment_through_an_attribute_and_a_local_proxy(share):
    class Holder:
        def __init__(self, share):
            self.share = share

    holder = Holder(share)
    share.counter = 0
    holder.share.counter += 2
    holder.share.counter -= 1
    assert share.counter == 1
    share.items = []
    items = share.items
    items += [1]  # a local name bound to a proxy: the proxy forwards +=
    assert type(items) is Proxy and share.items == [1]


def test_reads_see_own_writes_at_once(share):
    for i in range(200):
        share.value = i
        assert share.value == i
        share.value += 1
        assert share.value == i + 1


def test_aliasing_a_proxy_stores_the_same_object(share):
    share.a = [1]
    share.b = share.a  # both names hold the one list in the coordinator
    share.b.append(2)
    assert share.a == [1, 2]
    share.a = share.a  # storing a proxy on its own name does nothing
    assert share.a == [1, 2]


def test_missing_names_and_hasattr(share):
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        share.missing
    assert not hasattr(share, "missing")
    share.here = 1
    assert hasattr(share, "here")
    del share.here
    assert not hasattr(share, "here")
    assert "here" not in dir(share)
    share.x = 1
    assert {"x", "start", "exit", "clear"} <= set(dir(share))


def test_reserved_names_are_refused(share):
    for name in ("start", "exit", "clear", "_sk_local"):
        with pytest.raises(ShareError, match="part of Share"):
            setattr(share, name, 1)


def test_errors_of_calls_come_back_as_the_original_type_with_the_remote_traceback(share):
    share.items = [1]
    with pytest.raises(ValueError) as info:
        share.items.remove(99)
    assert "Share coordinator" in str(info.value.__cause__)
    with pytest.raises(KeyError):
        share.d = {}
        share.d["nope"]
    assert share.items == [1]  # the Share still works


def test_a_failed_write_is_raised_by_the_next_request_with_a_note(share):
    share.counter = 1
    share.counter += "a"  # fails in the coordinator; this thread hears of it next
    with pytest.raises(TypeError, match="unsupported operand") as info:
        share.counter
    assert any("share.counter +=" in note for note in info.value.__notes__)
    assert share.counter == 1  # reported once, and nothing changed


def test_values_that_cannot_be_serialized_fail_in_the_writer(share):
    share.fine = threading.Thread  # a class goes by reference
    with pytest.raises(cerial.SerializationError):
        share.bad = sys._getframe()  # a frame cannot travel
    # the Share still works after the failure
    share.ok = 1
    assert share.ok == 1


def test_clear_removes_everything(share):
    share.a, share.b = 1, [2]
    share.clear()
    assert not hasattr(share, "a") and not hasattr(share, "b")
    assert [n for n in dir(share) if n not in ("start", "exit", "clear")] == []


def test_threads_each_get_their_own_connection(share):
    share.counter = 0
    barrier = threading.Barrier(4)

    def work():
        barrier.wait(TIMEOUT)
        for _ in range(500):
            share.counter += 1

    run_threads(work, [()] * 4)
    assert share.counter == 2000


def test_serializing_a_share_gives_back_the_same_instance_here(share):
    assert cerial.deserialize(cerial.serialize(share)) is share
    assert pickle.loads(pickle.dumps(share)) is share
    assert copy.copy(share) is share and copy.deepcopy(share) is share
    share.items = [1]
    proxy = cerial.deserialize(cerial.serialize(share.items))
    assert type(proxy) is Proxy and proxy == [1]


def test_a_proxy_sent_back_to_the_coordinator_is_the_real_object(share):
    share.items = [1, 2]
    share.box = {"items": share.items}  # the dict holds the very same list
    share.items.append(3)
    assert share.box["items"] == [1, 2, 3]
    assert share.items == share.items


# ---------------------------------------------------------------- lifecycle


def test_exit_start_clear_and_local_use_between():
    share = Share()
    share.counter = 5
    share.items = [1]
    share.exit()
    share.exit()  # again: nothing
    assert share.counter == 5 and share.items == [1]  # local objects now
    assert type(share.items) is list
    share.counter += 1
    share.items.append(2)
    share.new = "x"
    share.start()
    share.start()  # again: nothing
    assert share.counter == 6 and share.items == [1, 2] and share.new == "x"
    assert type(share.items) is Proxy
    share.clear()
    assert not hasattr(share, "counter")
    share.exit()
    assert "exited" in repr(share)


def test_context_manager_exits_and_restarts():
    with Share() as share:
        share.value = 3
        assert "running" in repr(share)
    assert share.value == 3 and "exited" in repr(share)
    with share:
        share.value += 1
        assert share.value == 4
    assert share.value == 4


def test_only_the_owner_can_start_and_exit(share):
    other = Share.__deserialize__({"address": "/nonexistent/s", "authkey": b"k"})
    with pytest.raises(ShareError, match="only the process that created"):
        other.exit()
    with pytest.raises(ShareError, match="only the process that created"):
        other.start()
    with pytest.raises(ShareClosedError, match="not running"):
        other.anything


def test_a_killed_coordinator_gives_a_clear_error_not_a_hang():
    share = Share()
    share.value = 1
    share._sk_runtime.process.kill()
    share._sk_runtime.process.join(TIMEOUT)
    with pytest.raises(ShareClosedError) as info:
        share.value
    assert isinstance(info.value, ConnectionError)
    with pytest.raises(CoordinatorDiedError, match="already ended"):
        share.exit()
    assert "exited" in repr(share)


def test_a_collected_share_ends_its_coordinator():
    import gc

    from test_share_support import wait_gone

    share = Share()
    pid = share._sk_runtime.process.pid
    del share
    gc.collect()
    assert wait_gone([pid]) == []


def test_package_exports_each_public_name_once_with_a_docstring():
    from suitkaise.processing import _share

    assert isinstance(_share.__all__, tuple)
    assert len(set(_share.__all__)) == len(_share.__all__)
    for name in _share.__all__:
        obj = getattr(_share, name)
        assert obj.__doc__, name
    assert issubclass(_share.ShareClosedError, (_share.ShareError, ConnectionError))
    assert issubclass(_share.CoordinatorDiedError, _share.ShareClosedError)
