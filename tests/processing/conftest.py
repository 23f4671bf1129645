"""Fixtures of the processing tests.

``pool`` is one 2-worker pool per start method, shared by every test of a module that
asks for it (a pool is meant to be reused, and a spawn pool costs ~150 ms to start).
Tests that break workers on purpose build their own pool with
``test_pool_support.make_pool``. ``start_method`` comes from the suite's conftest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _support import START_METHODS, TIMEOUT

from suitkaise.processing._pool import Pool


@pytest.fixture(scope="module", params=START_METHODS)
def pool(request: pytest.FixtureRequest) -> Iterator[Pool]:
    """A 2-worker pool per start method, shared by the module's tests."""
    p = Pool(2, start_method=request.param)
    try:
        yield p
    finally:
        p.terminate()
        assert p.join(TIMEOUT)
