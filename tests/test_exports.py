"""Every public module lists its names in ``__all__``, once, and they all exist; every
docstring example of the serializer, timing and sk packages runs."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

MODULES = [
    "suitkaise",
    "suitkaise.cerial",
    "suitkaise.timing",
    "suitkaise.sk",
    "suitkaise.processing",
]


def _submodules(package_name: str) -> list[str]:
    package = importlib.import_module(package_name)
    found = pkgutil.walk_packages(package.__path__, f"{package_name}.")
    return [package_name, *sorted(info.name for info in found)]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_a_tuple_of_unique_existing_names(name):
    module = importlib.import_module(name)
    assert isinstance(module.__all__, tuple)
    assert len(set(module.__all__)) == len(module.__all__)
    for attr in module.__all__:
        assert getattr(module, attr) is not None, attr


@pytest.mark.parametrize("name", MODULES[1:])
def test_public_names_have_docstrings(name):
    module = importlib.import_module(name)
    assert module.__doc__
    for attr in module.__all__:
        obj = getattr(module, attr)
        if callable(obj):
            assert obj.__doc__, f"{name}.{attr} has no docstring"


@pytest.mark.parametrize("name", [m for package in MODULES[1:] for m in _submodules(package)])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
