"""Fixtures for the whole suite.

``start_method``: a test that takes it (or uses it through
``pytest.mark.usefixtures``) runs once per start method, with that method set as
suitkaise's default for the test's duration.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _support import START_METHODS

from suitkaise.processing import set_start_method


@pytest.fixture(params=START_METHODS)
def start_method(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test under each start method in turn."""
    set_start_method(request.param)
    try:
        yield request.param
    finally:
        set_start_method(None)
