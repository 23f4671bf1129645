"""Every public module lists its names in ``__all__``, once, and they all exist."""

from __future__ import annotations

import importlib

import pytest

MODULES = ["suitkaise", "suitkaise.cerial", "suitkaise.timing", "suitkaise.sk"]


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
