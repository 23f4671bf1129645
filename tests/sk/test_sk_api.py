"""suitkaise.sk: its public names, errors and the module itself as ``sk``."""

from __future__ import annotations

import suitkaise.sk as sk_module


def test_public_names() -> None:
    assert set(sk_module.__all__) == {
        "MODIFIERS",
        "SkFunction",
        "SkModifierError",
        "SkTimeoutError",
        "sk",
    }


def test_modifier_names() -> None:
    assert sk_module.MODIFIERS == ("timeout", "background", "asynced", "retry", "rate_limit")


def test_errors_inherit_from_stdlib() -> None:
    assert issubclass(sk_module.SkModifierError, TypeError)
    assert issubclass(sk_module.SkTimeoutError, TimeoutError)


def test_modifiers_are_documented() -> None:
    for modifier in sk_module.MODIFIERS:
        assert getattr(sk_module.SkFunction, modifier).__doc__, modifier


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
