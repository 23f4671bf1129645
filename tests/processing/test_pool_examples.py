"""The Pool examples in examples/ run and print what they promise."""

from __future__ import annotations

import pytest
from _support import EXAMPLES, assert_clean_run, run_example

EXPECTED = {
    "pool_basic.py": [
        "map: [[0, 2, 4], [6, 8, 10], [12, 14, 16], [18, 20, 22]]",
        "closure: [11, 12, 13]",
        "unordered_imap: [3, 12, 21, 30]",
        "star: [8, 9]",
        "timed out: PoolTimeoutError",
        "asynced: [[0, 2, 4], [6, 8, 10]]",
        "error: invalid literal for int() with base 10: 'two' | cause: RemoteTraceback",
        "still usable: [1, 2]",
    ],
    "pool_skprocess.py": [
        "upscaled: [[1, 1, 2, 2], [3, 3, 4, 4], [5, 5, 6, 6]]",
        "colored: [('red', [1, 2]), ('green', [4, 6]), ('blue', [10, 12])]",
        "stopped itself: [3, 5]",
    ],
    "pool_faults.py": [
        "task 5 lost: worker",
        "was killed by SIGKILL",
        "the pool goes on: [0, 1, 4, 9, 16]",
        "with a retry: [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]",
        "progress: [3, 2, 1, 0, 1, 2]",
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_pool_example_runs(name):
    done = run_example(EXAMPLES / name)
    assert_clean_run(done)  # no bar off a terminal, no warnings
    for line in EXPECTED[name]:
        assert line in done.stdout, (line, done.stdout)
