"""How the caller's bytecode is read: augmented assignments, lazy chains, fallbacks."""

from __future__ import annotations

import sys

import pytest

from suitkaise.processing._share import _ops
from suitkaise.processing._share._ops import LAZY, METHOD, VALUE


class Probe:
    """Records what ``_ops`` decides for each attribute / item load made on it."""

    def __init__(self):
        object.__setattr__(self, "seen", [])

    def __getattr__(self, name):
        self.seen.append((name, _ops.attribute_use(sys._getframe(1), name)))
        return Probe()

    def __setattr__(self, name, value):
        pass

    def __getitem__(self, key):
        self.seen.append((key, _ops.item_use(sys._getframe(1))))
        return Probe()

    def __setitem__(self, key, value):
        pass

    def __iadd__(self, other):
        return self

    __isub__ = __imul__ = __ior__ = __itruediv__ = __ipow__ = __iadd__

    def __call__(self, *args):
        return self

    def __iter__(self):
        return iter(())

    def __contains__(self, item):
        return False

    def __add__(self, other):
        return self


def decisions(fn):
    probe = Probe()
    fn(probe)
    return probe.seen


def test_augmented_assignments_are_found():
    def body(s):
        s.a += 1
        s.b -= 2
        s.c *= 3
        s.d |= 4
        s.e /= 5
        s.f **= 6

    assert decisions(body) == [
        ("a", "+="), ("b", "-="), ("c", "*="), ("d", "|="), ("e", "/="), ("f", "**="),
    ]


def test_an_augmented_assignment_with_a_complex_right_hand_side():
    def body(s, flag=True):
        s.a += (1 if flag else 2) + len([x for x in range(3)])
        s.b += s.c  # the load of c is a plain read

    assert decisions(body) == [("a", "+="), ("b", "+="), ("c", VALUE)]


def test_the_other_forms_are_plain_reads():
    def body(s):
        s.a = s.a + 1  # not atomic in Python either
        x = s.b
        str(x)
        s.c(1)

    assert decisions(body) == [("a", VALUE), ("b", VALUE), ("c", METHOD)]


def test_lazy_chains():
    def body(s):
        s.timer.add_time(1)
        s.timer.mean
        s.d["k"] = 1
        s.d["k"]
        for _ in s.items:
            pass
        1 in s.items  # noqa: B015 - the membership test is the bytecode under test
        s.obj.x += 1
        s.obj.__class__  # dunder: asked for as a value

    got = decisions(body)
    assert got == [
        ("timer", LAZY), ("timer", LAZY), ("d", LAZY), ("d", LAZY), ("items", LAZY),
        ("items", LAZY), ("obj", LAZY), ("obj", VALUE),
    ]


def test_item_augmented_assignments():
    probe = Probe()
    probe["k"] += 1
    _ = probe["j"]
    probe["m"] = probe["n"] + 1
    assert probe.seen == [("k", "+="), ("j", VALUE), ("n", VALUE)]


def test_decisions_are_cached_per_code_and_offset():
    def body(s):
        s.a += 1

    for _ in range(3):
        assert decisions(body) == [("a", "+=")]
    code = body.__code__
    assert any(entry[0] is code for entry in _ops._attr_cache.values())


def test_unknown_bytecode_falls_back_to_plain_reads(monkeypatch):
    monkeypatch.setattr(_ops, "_SUPPORTED", False)
    monkeypatch.setattr(_ops, "_attr_cache", {})

    def body(s):
        s.a += 1
        s.timer.add_time(1)

    assert decisions(body) == [("a", VALUE), ("timer", VALUE)]


def test_a_frame_offset_that_is_not_an_attribute_load_is_a_plain_read():
    code = test_a_frame_offset_that_is_not_an_attribute_load_is_a_plain_read.__code__
    assert _ops._decide_attribute(code, 0) == (None, VALUE)
    assert _ops._decide_item(code, 0) == VALUE


def test_a_lookup_of_another_name_than_the_one_loaded_is_a_plain_read():
    class Indirect:
        def __init__(self, probe):
            self.probe = probe

        @property
        def other(self):
            # reached while `x.other += 1` runs; a call, not an attribute load, here
            return getattr(self.probe, "hidden")  # noqa: B009

    probe = Probe()
    holder = Indirect(probe)
    before = len(probe.seen)
    frame_names = []

    def body():
        frame_names.append(_ops.attribute_use(sys._getframe(), "not_loaded_here"))

    body()
    assert frame_names == [VALUE]
    assert holder.other is not None
    assert probe.seen[before:] == [("hidden", VALUE)]


@pytest.mark.parametrize("symbol", sorted(_ops.INPLACE))
def test_every_inplace_symbol_has_an_operator(symbol):
    assert callable(_ops.INPLACE[symbol])
    assert symbol in _ops._NB_INPLACE.values()


def test_specialized_instructions_are_still_recognised():
    # After a few runs the interpreter specializes BINARY_SUBSCR for a Python
    # __getitem__ and reports an offset inside its inline cache as f_lasti.
    probe = Probe()
    for _ in range(50):
        probe["k"] += 1
        probe.a += 1
    assert set(probe.seen) == {("k", "+="), ("a", "+=")}
