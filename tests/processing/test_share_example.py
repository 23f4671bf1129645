"""examples/share_worker.py runs as a script (default start method and spawn) and
prints what it promises, with nothing on stderr."""

from __future__ import annotations

import pytest
from _support import EXAMPLES, assert_clean_run, run_example

EXAMPLE = EXAMPLES / "share_worker.py"

EXPECTED = [
    "final count: 109",
    "timer: 109 times, 10.9 s in all",
    "after exit(): counter is still 109",
    "after clear(): has a counter? False",
    "4 workers x 1000 increments: 4000",
    "list: 4000 items, 1000 from worker a",
    "after the with block: 4001 (read locally; the Share is stopped)",
]


@pytest.mark.parametrize("method", [None, "spawn"], ids=["default", "spawn"])
def test_share_worker_example(method):
    done = run_example(EXAMPLE, method)
    assert_clean_run(done)
    assert done.stdout.splitlines() == EXPECTED
