"""Functions and classes by value, in-process and in a fresh interpreter."""

from __future__ import annotations

import dataclasses
import enum
import functools

import pytest
from _support import run_in_fresh_interpreter

from suitkaise import cerial


def roundtrip(obj):
    return cerial.deserialize(cerial.serialize(obj))


def test_plain_data_roundtrips():
    data = {"a": [1, 2.5, "x", b"y", None, True], "b": (1, {2, 3}), "c": frozenset({4})}
    assert roundtrip(data) == data


def test_lambda_and_closure_in_fresh_interpreter():
    y = 10
    add = lambda x: x + y  # noqa: E731
    assert run_in_fresh_interpreter(add, 1) == 11


def test_recursive_local_function():
    def fact(n):
        return 1 if n <= 1 else n * fact(n - 1)

    assert roundtrip(fact) is fact
    assert run_in_fresh_interpreter(lambda f: f(6), fact) == 720


def test_local_dataclass_identity_and_fresh_interpreter():
    @dataclasses.dataclass
    class Point:
        x: int
        y: int = 2

        def norm2(self):
            return self.x**2 + self.y**2

    p = roundtrip(Point(1))
    assert type(p) is Point and p == Point(1)

    def check(point):
        again = type(point)(point.x, point.y)
        return (point.norm2(), again == point, [f.name for f in dataclasses.fields(point)])

    assert run_in_fresh_interpreter(check, Point(3, 4)) == (25, True, ["x", "y"])


def test_local_enum_members_keep_identity():
    class Color(enum.Enum):
        RED = 1
        GREEN = 2

        def label(self):
            return self.name.lower()

    assert roundtrip(Color.GREEN) is Color.GREEN

    def check(members):
        a, b = members
        return (a is b, a.label(), type(a)(1).name)

    assert run_in_fresh_interpreter(check, [Color.GREEN, Color.GREEN]) == (True, "green", "RED")


def test_rebuilt_class_is_shared_across_deserializations():
    class Thing:
        def __init__(self, v):
            self.v = v

    def check(data):
        a = cerial.deserialize(data)
        b = cerial.deserialize(data)
        return type(a) is type(b)

    assert run_in_fresh_interpreter(check, cerial.serialize(Thing(1)))


def test_slots_super_classmethod_property():
    class Base:
        __slots__ = ("v",)

        def __init__(self, v):
            self.v = v

        def describe(self):
            return f"base {self.v}"

    class Child(Base):
        __slots__ = ("w",)

        def __init__(self, v, w):
            super().__init__(v)
            self.w = w

        def describe(self):
            return super().describe() + f" child {self.w}"

        @classmethod
        def make(cls):
            return cls(1, 2)

        @property
        def total(self):
            return self.v + self.w

    def check(obj):
        return (obj.describe(), obj.total, type(obj).make().total, hasattr(obj, "__dict__"))

    assert check(roundtrip(Child(3, 4))) == ("base 3 child 4", 7, 3, False)
    assert run_in_fresh_interpreter(check, Child(3, 4)) == ("base 3 child 4", 7, 3, False)


def test_bound_method_and_partial():
    class Counter:
        def __init__(self):
            self.n = 5

        def add(self, k):
            return self.n + k

    assert run_in_fresh_interpreter(
        lambda m, p: (m(1), p()), Counter().add, functools.partial(max, 3, 9)
    ) == (6, 9)


def test_cycles_and_shared_identity():
    shared = [1, 2]
    data = {"a": shared, "b": shared}
    data["self"] = data
    back = roundtrip(data)
    assert back["a"] is back["b"] and back["self"] is back


def test_wrong_argument_types():
    with pytest.raises(TypeError, match="debug must be a bool"):
        cerial.serialize(1, debug="yes")
    with pytest.raises(TypeError, match="needs bytes"):
        cerial.deserialize("not bytes")
