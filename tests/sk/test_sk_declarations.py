"""How library code declares modifiers: supported/unsupported, custom implementations,
class decoration, binding, pickling, and misuse of sk() itself."""

from __future__ import annotations

import asyncio
import pickle
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pytest

from suitkaise.sk import MODIFIERS, SkFunction, SkModifierError, SkTimeoutError, sk

TIMEOUT = 10.0


class ResultTimeoutError(TimeoutError):
    """Stands in for processing's own timeout error."""


class FakeProcess:
    """Mimics how Skprocess declares its methods' modifiers."""

    def __init__(self) -> None:
        self.finished = threading.Event()
        self.timeouts_seen: list[float | None] = []

    def _result_timeout(self, seconds: float | None) -> Callable[[], Any]:
        def call() -> Any:
            return self.result(timeout=seconds)

        return call

    @sk(unsupported=("retry",), timeout=_result_timeout)
    def result(self, timeout: float | None = None) -> str:
        self.timeouts_seen.append(timeout)
        if not self.finished.wait(timeout if timeout is not None else TIMEOUT):
            raise ResultTimeoutError(f"no result within {timeout} seconds")
        return "result"

    @sk(supported="asynced")
    def wait(self) -> bool:
        return self.finished.wait(TIMEOUT)

    @sk(supported=("background", "asynced"))
    def items(self, n: int) -> list[int]:
        return list(range(n))

    @items.modifier("background")
    def items(self) -> Callable[[int], Future[list[int]]]:
        def call(n: int) -> Future[list[int]]:
            future: Future[list[int]] = Future()
            future.set_result(["custom", n])  # type: ignore[list-item]
            return future

        return call


@sk
def module_function(x: int) -> int:
    return x + 100


@sk
class Service:
    """A user's class given the modifiers."""

    def __init__(self, base: int = 0) -> None:
        self.base = base

    def public(self, x: int) -> int:
        return self.base + x

    def _private(self) -> str:
        return "private"

    @staticmethod
    def static(x: int) -> int:
        return x * 3

    @classmethod
    def make(cls, base: int) -> Service:
        return cls(base)

    async def coro(self) -> str:
        return "async"

    @property
    def prop(self) -> int:
        return self.base

    limit = 5


# ---------------------------------------------------- supported / unsupported


def test_unsupported_modifier_raises_naming_method_and_modifier() -> None:
    p = FakeProcess()
    for modifier in ("retry", "timeout", "background", "rate_limit"):
        with pytest.raises(SkModifierError) as info:
            getattr(p.wait, modifier)
        err = info.value
        assert isinstance(err, TypeError)
        assert str(err).startswith(f"wait() does not support the {modifier}() modifier")
        assert "asynced()" in str(err)
        assert (err.name, err.modifier) == ("wait", modifier)


def test_unsupported_list() -> None:
    p = FakeProcess()
    with pytest.raises(
        SkModifierError, match=r"result\(\) does not support the retry\(\) modifier"
    ):
        p.result.retry(times=2)
    assert p.result.supported_modifiers == ("timeout", "background", "asynced", "rate_limit")
    assert p.wait.supported_modifiers == ("asynced",)


def test_supported_modifier_still_works() -> None:
    p = FakeProcess()
    p.finished.set()
    assert asyncio.run(p.wait.asynced()()) is True
    assert p.wait() is True


def test_modifier_error_pickles() -> None:
    with pytest.raises(SkModifierError) as info:
        FakeProcess().wait.retry
    clone = pickle.loads(pickle.dumps(info.value))
    assert (str(clone), clone.name, clone.modifier) == (
        str(info.value),
        "wait",
        "retry",
    )


def test_timeout_error_pickles() -> None:
    err = SkTimeoutError("f() did not finish", name="f", seconds=1.5)
    clone = pickle.loads(pickle.dumps(err))
    assert (str(clone), clone.name, clone.seconds) == ("f() did not finish", "f", 1.5)


# ------------------------------------------------------ custom implementations


def test_custom_timeout_keyword_calls_the_methods_own_timeout() -> None:
    p = FakeProcess()
    with pytest.raises(ResultTimeoutError, match="no result within 0.01"):
        p.result.timeout(0.01)()
    assert p.timeouts_seen == [0.01]  # the method's own timeout, not a worker thread
    p.finished.set()
    assert p.result.timeout(TIMEOUT)() == "result"


def test_custom_implementation_receives_checked_arguments() -> None:
    p = FakeProcess()
    with pytest.raises(ValueError, match="zero or more"):
        p.result.timeout(-1)
    p.finished.set()
    assert p.result.timeout(3)() == "result"
    assert p.timeouts_seen == [3.0]
    assert type(p.timeouts_seen[0]) is float


def test_other_modifiers_keep_default_implementation() -> None:
    p = FakeProcess()
    p.finished.set()
    assert p.result.background()().result(timeout=TIMEOUT) == "result"
    assert asyncio.run(p.result.asynced()()) == "result"


def test_modifier_decorator_form() -> None:
    p = FakeProcess()
    assert p.items(3) == [0, 1, 2]
    assert p.items.background()(7).result(timeout=TIMEOUT) == ["custom", 7]
    assert asyncio.run(p.items.asynced()(2)) == [0, 1]
    with pytest.raises(SkModifierError):
        p.items.timeout


def test_custom_implementations_for_every_modifier_on_a_function() -> None:
    seen: dict[str, tuple[Any, ...]] = {}

    def record(name: str) -> Callable[..., Callable[..., str]]:
        def impl(*settings: Any) -> Callable[..., str]:
            seen[name] = settings
            return lambda *a, **k: f"{name}{a}"

        return impl

    f = sk(
        timeout=record("timeout"),
        background=record("background"),
        asynced=record("asynced"),
        retry=record("retry"),
        rate_limit=record("rate_limit"),
    )(lambda x: x)
    assert f(1) == 1
    assert f.timeout(2)(1) == "timeout(1,)"
    assert f.background()(1) == "background(1,)"
    assert f.asynced()(1) == "asynced(1,)"
    assert f.retry(4, delay=1, backoff=2, exceptions=KeyError)(1) == "retry(1,)"
    assert f.rate_limit(5)(1) == "rate_limit(1,)"
    assert seen == {
        "timeout": (2.0,),
        "background": (),
        "asynced": (),
        "retry": (4, 1.0, 2.0, (KeyError,)),
        "rate_limit": (5.0,),
    }


def test_custom_implementation_must_return_a_callable() -> None:
    f = sk(timeout=lambda seconds: "not callable")(abs)
    with pytest.raises(TypeError, match="returned str, not a callable"):
        f.timeout(1)


def test_library_builds_a_custom_modifier_from_a_default_one() -> None:
    class Pool:
        def imap(self, values: list[int]) -> Any:
            return iter(v * 2 for v in values)

        def _imap_background(self) -> Callable[..., Future[list[int]]]:
            return sk(lambda *a: list(self.imap(*a))).background()

        imap = sk(supported=("background",), background=_imap_background)(imap)

    future = Pool().imap.background()([1, 2])
    assert future.result(timeout=TIMEOUT) == [2, 4]


# ---------------------------------------------------------- sk() misuse


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: sk(supported=("retry",), unsupported=("timeout",)), TypeError, "not both"),
        (lambda: sk(supported=("sometimes",)), ValueError, "unknown modifier"),
        (lambda: sk(unsupported="never"), ValueError, "unknown modifier"),
        (lambda: sk(supported=5), TypeError, "modifier names"),
        (lambda: sk(supported=[1, "timeout"]), TypeError, "modifier names"),
        (lambda: sk(timeout=42), TypeError, "must be callable"),
        (lambda: sk(supported=("asynced",), timeout=lambda s: abs)(abs), ValueError, "unsupported"),
        (lambda: sk(42), TypeError, "callable"),
        (lambda: sk(timeout=lambda s: abs)(Service), TypeError, "whole class"),
        (lambda: module_function.modifier("nope"), ValueError, "unknown modifier"),
        (lambda: module_function.modifier(["timeout"]), TypeError, "one modifier name"),
    ],
)
def test_sk_misuse(make: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()


def test_sk_refuses_async_functions() -> None:
    async def coro() -> None:
        return None

    with pytest.raises(TypeError, match="async"):
        sk(coro)


def test_modifiers_cannot_be_assigned() -> None:
    with pytest.raises(AttributeError):
        module_function.timeout = 5  # type: ignore[misc, assignment]


def test_sk_on_sk_function_keeps_or_replaces_configuration() -> None:
    p_wait = FakeProcess.__dict__["wait"]
    assert sk(p_wait) is p_wait
    everything = sk(unsupported=())(p_wait)
    assert everything.supported_modifiers == MODIFIERS
    # Custom implementations survive re-decoration while their modifier is offered.
    p_result = FakeProcess.__dict__["result"]
    assert sk(unsupported=())(p_result)._custom.keys() == {"timeout"}
    assert sk(unsupported="timeout")(p_result)._custom == {}


# ---------------------------------------------------------- @sk on a class


def test_class_decoration_wraps_public_methods_only() -> None:
    d = Service.__dict__
    assert isinstance(d["public"], SkFunction)
    assert isinstance(d["static"], SkFunction)
    assert isinstance(d["make"], SkFunction)
    assert not isinstance(d["_private"], SkFunction)
    assert not isinstance(d["__init__"], SkFunction)
    assert not isinstance(d["coro"], SkFunction)
    assert isinstance(d["prop"], property)
    assert Service.limit == 5


def test_bound_methods_of_an_sk_class() -> None:
    s = Service(10)
    assert s.public(1) == 11
    assert s.public.timeout(TIMEOUT)(2) == 12
    assert s.public.background()(3).result(timeout=TIMEOUT) == 13
    assert asyncio.run(s.public.asynced()(4)) == 14
    assert s.public.retry(times=2)(5) == 15
    assert s.public.rate_limit(1000)(6) == 16
    assert s.public.__self__ is s
    assert s._private() == "private"
    assert s.prop == 10
    assert asyncio.run(s.coro()) == "async"


def test_static_and_class_methods() -> None:
    s = Service()
    assert Service.static(2) == 6 == s.static(2)
    assert Service.static.timeout(TIMEOUT)(3) == 9
    made = Service.make(7)
    assert isinstance(made, Service) and made.base == 7
    assert Service.make.timeout(TIMEOUT)(8).base == 8
    assert s.make.background()(9).result(timeout=TIMEOUT).base == 9


def test_unbound_access_through_the_class() -> None:
    s = Service(1)
    assert Service.public is Service.__dict__["public"]
    assert Service.public(s, 2) == 3
    assert Service.public.timeout(TIMEOUT)(s, 3) == 4


def test_bound_methods_compare_like_methods() -> None:
    a, b = Service(), Service()
    assert a.public == a.public
    assert hash(a.public) == hash(a.public)
    assert a.public != b.public
    assert len({a.public, a.public, b.public}) == 2


def test_repr() -> None:
    assert repr(module_function) == "<sk function module_function>"
    assert repr(Service().public).startswith("<sk bound method Service.public of <")


# ------------------------------------------------------------------ pickling


def test_module_level_function_pickles_by_reference() -> None:
    assert pickle.loads(pickle.dumps(module_function)) is module_function
    assert pickle.loads(pickle.dumps(Service.__dict__["public"])) is Service.public


def test_bound_method_pickles_with_its_instance() -> None:
    clone = pickle.loads(pickle.dumps(Service(5).public))
    assert clone(1) == 6
    assert clone.timeout(TIMEOUT)(2) == 7
    assert isinstance(clone.__self__, Service)


def test_unimportable_wrapper_pickles_by_value_of_its_function() -> None:
    f = sk(unsupported=("rate_limit",))(abs)
    clone = pickle.loads(pickle.dumps(f))
    assert clone is not f
    assert clone(-3) == 3
    assert clone.supported_modifiers == f.supported_modifiers
    assert clone.timeout(TIMEOUT)(-4) == 4


def test_wrapping_plain_callables() -> None:
    import functools

    double = sk(functools.partial(lambda a, b: a * b, 2))
    assert double(4) == 8
    assert double.timeout(TIMEOUT)(5) == 10

    class Holder:
        triple = sk(functools.partial(lambda a, b: a * b, 3))

    assert Holder().triple(2) == 6  # partials do not bind, as in plain Python (before 3.14)
