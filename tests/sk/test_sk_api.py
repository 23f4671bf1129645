"""suitkaise.sk exports each public name once, and its documented examples run."""

from __future__ import annotations

import doctest
import importlib

import pytest

import suitkaise.sk as sk_module

MODULES = (
    "suitkaise.sk",
    "suitkaise.sk._skfunction",
    "suitkaise.sk._errors",
    "suitkaise.sk._runners",
)


def test_all_is_a_tuple_of_unique_existing_names() -> None:
    assert isinstance(sk_module.__all__, tuple)
    assert len(set(sk_module.__all__)) == len(sk_module.__all__)
    assert set(sk_module.__all__) == {
        "MODIFIERS",
        "SkFunction",
        "SkModifierError",
        "SkTimeoutError",
        "sk",
    }
    for name in sk_module.__all__:
        assert hasattr(sk_module, name)


def test_modifier_names() -> None:
    assert sk_module.MODIFIERS == ("timeout", "background", "asynced", "retry", "rate_limit")


def test_errors_inherit_from_stdlib() -> None:
    assert issubclass(sk_module.SkModifierError, TypeError)
    assert issubclass(sk_module.SkTimeoutError, TimeoutError)


def test_public_objects_are_documented() -> None:
    for name in ("SkFunction", "SkModifierError", "SkTimeoutError", "sk"):
        assert getattr(sk_module, name).__doc__, name
    for modifier in sk_module.MODIFIERS:
        assert getattr(sk_module.SkFunction, modifier).__doc__, modifier


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name: str) -> None:
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_module_is_callable_as_sk() -> None:
    from suitkaise import sk as sk_from_package

    @sk_from_package
    def f(x: int) -> int:
        return x + 1

    assert isinstance(f, sk_module.SkFunction)
    assert f.timeout(10)(1) == 2

    @sk_from_package(supported=("asynced",))
    def g() -> None:
        return None

    assert g.supported_modifiers == ("asynced",)
