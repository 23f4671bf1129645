"""Functions and classes by value, in-process and in a fresh interpreter."""

from __future__ import annotations

import abc
import dataclasses
import enum
import functools
import typing

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


def test_bound_method_keeps_its_function_not_a_lookup_by_name():
    # Regression: bound methods went through getattr(obj, func.__name__), which finds
    # nothing for a lambda stored as a method and finds an instance attribute that
    # shadows the method.
    class Doubler:
        double = lambda self, x: 2 * x  # noqa: E731

        def real(self):
            return "method"

    shadowed = Doubler()
    shadowed.real = lambda: "instance attribute"
    method = Doubler.real.__get__(shadowed)
    assert roundtrip(Doubler().double)(4) == 8
    assert roundtrip(method)() == "method"
    assert run_in_fresh_interpreter(lambda d, m: (d(4), m()), Doubler().double, method) == (
        8,
        "method",
    )


def test_lru_cache_wrapper_of_a_local_function():
    # Regression: the wrapper always travelled by name, so one defined in __main__ or
    # locally could not be loaded elsewhere.
    @functools.lru_cache(maxsize=8)
    def square(x):
        return x * x

    assert roundtrip(square) is square
    got = run_in_fresh_interpreter(
        lambda f: (f(3), f(3), f.cache_info().hits, f.cache_parameters()), square
    )
    assert got == (9, 9, 1, {"maxsize": 8, "typed": False})


def test_exception_whose_init_does_not_take_its_args():
    # Regression: pickle's cls(*args) failed on arrival (one arg kept, two required).
    class NotFound(LookupError):
        def __init__(self, path, reason):
            super().__init__(f"{path}: {reason}")
            self.path = path

    error = NotFound("/x", "gone")
    error.add_note("while loading")

    def check(exc):
        return type(exc).__name__, str(exc), exc.path, exc.__notes__, isinstance(exc, LookupError)

    expected = ("NotFound", "/x: gone", "/x", ["while loading"], True)
    assert check(roundtrip(error)) == expected
    assert run_in_fresh_interpreter(check, error) == expected
    assert roundtrip(KeyError("k")).args == ("k",)
    assert roundtrip(OSError(2, "missing", "/f")).filename == "/f"


def test_enum_sent_by_value_keeps_its_own_overrides():
    # Regression: __str__, __format__ and the docstring were dropped as enum internals.
    class Level(enum.IntFlag):
        """Access levels."""

        READ = 1
        WRITE = 2

        def __str__(self):
            return "level " + "+".join(m.name for m in type(self) if m in self)

        def __format__(self, spec):
            return f"<{self.value}>"

    def check(level):
        return str(level), f"{level}", type(level).__doc__, int(level)

    assert run_in_fresh_interpreter(check, Level.READ | Level.WRITE) == (
        "level READ+WRITE",
        "<3>",
        "Access levels.",
        3,
    )


def test_awkward_classes_and_functions_in_fresh_interpreter():
    class Base(abc.ABC):
        @abc.abstractmethod
        def f(self): ...

    class Virtual:
        pass

    Base.register(Virtual)

    @dataclasses.dataclass(frozen=True, slots=True)
    class Frozen:
        x: int
        tags: list = dataclasses.field(default_factory=list)

    class Pair(typing.NamedTuple):
        a: int
        b: str = "b"

    class Cached:
        @functools.cached_property
        def value(self):
            return 42

    def make_mutual():
        def even(n):
            return n == 0 or odd(n - 1)

        def odd(n):
            return n != 0 and even(n - 1)

        return even, odd

    def countdown(n, again=None):
        return n if n <= 0 else again(n - 1, again)

    countdown.__defaults__ = (None, countdown)
    even, odd = make_mutual()
    cached = Cached()
    _ = cached.value

    def check(base, virtual, frozen, pair, cached, even, odd, countdown):
        return (
            issubclass(virtual, base),
            sorted(base.__abstractmethods__),
            frozen,
            dataclasses.replace(frozen, x=2).x,
            pair,
            type(pair)(5).b,
            vars(cached),
            even(10),
            odd(7),
            countdown(3),
        )

    args = (Base, Virtual, Frozen(1, ["t"]), Pair(1), cached, even, odd, countdown)
    got = run_in_fresh_interpreter(check, *args)
    assert got[:2] == (True, ["f"])
    assert got[2] == Frozen(1, ["t"]) and got[3] == 2  # back here: the very same class
    assert got[4] == Pair(1) and got[5] == "b"
    assert got[6:] == ({"value": 42}, True, True, 0)


def test_classes_whose_metaclass_redefines_equality_keep_their_identity():
    # Regression: tracker ids were looked up by ==/hash, so two classes "equal" by name
    # shared one id (the second came back as the first), and an unhashable class failed.
    class ByName(type):
        def __eq__(cls, other):
            return isinstance(other, ByName) and cls.__name__ == other.__name__

        def __hash__(cls):
            return hash(cls.__name__)

    class Unhashable(type):
        __eq__ = type.__eq__

        def __hash__(cls):
            raise TypeError("unhashable class")

    def make(value, meta):
        class Model(metaclass=meta):
            pass

        Model.value = value
        return Model

    first, second, odd = make(1, ByName), make(2, ByName), make(3, Unhashable)
    assert [roundtrip(cls) for cls in (first, second, odd)] == [first, second, odd]
    assert roundtrip(second) is second and roundtrip(odd) is odd
    got = run_in_fresh_interpreter(lambda a, b, c: (a.value, b.value, c.value), first, second, odd)
    assert got == (1, 2, 3)


def test_half_a_serialize_hook_is_refused_when_serializing():
    # Regression: __serialize__ without __deserialize__ serialized fine and then
    # could never be loaded.
    class OnlyOut:
        def __serialize__(self):
            return 1

    with pytest.raises(cerial.SerializationError, match="no classmethod __deserialize__"):
        cerial.serialize([OnlyOut()])


def test_globals_stay_shared_when_a_rebuilt_function_is_sent_on():
    # Regression: a function rebuilt in process B and sent on to C got a new globals id,
    # so in C it no longer shared globals with its siblings sent straight from here.
    def first():
        return "first"

    def second():
        return "second"

    from_b = run_in_fresh_interpreter(lambda f: cerial.serialize(f), first)

    def check(data, g):
        f = cerial.deserialize(data)
        return f.__globals__ is g.__globals__

    assert run_in_fresh_interpreter(check, from_b, second)


def test_deep_nesting_is_a_clear_serialization_error():
    deep = []
    for _ in range(100_000):
        deep = [deep]
    for call in (
        cerial.serialize,
        lambda obj: cerial.serialize(obj, debug=True),
        cerial.serialize_ir,  # regression: a bare RecursionError
        cerial.to_json,  # regression: a bare RecursionError
    ):
        with pytest.raises(cerial.SerializationError, match="nested too deeply"):
            call(deep)


def test_cycles_and_shared_identity():
    shared = [1, 2]
    data = {"a": shared, "b": shared}
    data["self"] = data
    back = roundtrip(data)
    assert back["a"] is back["b"] and back["self"] is back


def test_register_checks_its_arguments():
    class Resource:
        def __init__(self, path):
            self.path = path

    with pytest.raises(TypeError, match="needs a class"):
        cerial.register(1, lambda obj: None)
    with pytest.raises(TypeError, match="must be callable"):
        cerial.register(Resource, 5)
    # Regression: a reducer for a type pickle writes natively was silently never used.
    with pytest.raises(TypeError, match="natively"):
        cerial.register(dict, lambda obj: (dict, ()))

    @cerial.register(Resource)
    def _resource_reduce(obj):
        return Resource, (obj.path.upper(),)

    assert roundtrip(Resource("a")).path == "A"


def test_wrong_argument_types():
    with pytest.raises(TypeError, match="debug must be a bool"):
        cerial.serialize(1, debug="yes")
    with pytest.raises(TypeError, match="needs bytes"):
        cerial.deserialize("not bytes")
