"""Shared pieces of the Skprocess tests: the start-method fixture and process probes.

pytest finds the ``start_method`` fixture here by itself; every test that takes it
(or uses it through ``pytest.mark.usefixtures``) runs once per start method. The
process probes live in ``process_probes.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from suitkaise.processing import set_start_method

__all__ = ("START_METHODS", "start_method")

START_METHODS = ("fork", "forkserver", "spawn")


@pytest.fixture(params=START_METHODS)
def start_method(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test under each start method in turn."""
    set_start_method(request.param)
    try:
        yield request.param
    finally:
        set_start_method(None)


