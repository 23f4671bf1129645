"""suitkaise.timing exports each public name once, and its documented examples run."""

from __future__ import annotations

import doctest
import importlib

import pytest

import suitkaise.timing as timing

MODULES = (
    "suitkaise.timing",
    "suitkaise.timing._sktimer",
    "suitkaise.timing._timethis",
    "suitkaise.timing._clock",
)


def test_all_is_a_tuple_of_unique_existing_names() -> None:
    assert isinstance(timing.__all__, tuple)
    assert len(set(timing.__all__)) == len(timing.__all__)
    for name in timing.__all__:
        assert getattr(timing, name) is not None
    assert set(timing.__all__) == {"Sktimer", "TimeThis", "sleep", "time", "timethis"}


def test_public_objects_are_documented() -> None:
    for name in timing.__all__:
        assert getattr(timing, name).__doc__, name


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name: str) -> None:
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
