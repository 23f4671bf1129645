"""lives: a failed run is retried from __prerun__ with the state of the last good run."""

from __future__ import annotations

import pytest
from _support import TIMEOUT

from suitkaise.processing import RunError, Skprocess

# Every test runs under fork, forkserver and spawn.
pytestmark = pytest.mark.usefixtures("start_method")


class Flaky(Skprocess):
    """Each run appends to self.done; run numbers listed in `fail` fail once each.

    The record of failures lives in a class attribute of the child process, which a
    retry does not roll back (unlike the instance's own state).
    """

    failed: set = set()

    def __init__(self, runs, lives, fail):
        self.process_config.runs = runs
        self.process_config.lives = lives
        self.fail = fail
        self.done = []
        self.prerun_seen = []

    def __prerun__(self):
        self.prerun_seen.append(len(self.done) + 1)

    def __run__(self):
        n = len(self.done) + 1
        self.done.append(n)  # progress made before the failure: must be rolled back
        if n in self.fail and n not in type(self).failed:
            type(self).failed.add(n)
            raise ValueError(f"run {n} failed")

    def __result__(self):
        return self.done, self.prerun_seen


def test_failed_runs_retry_from_the_last_good_state():
    p = Flaky(runs=4, lives=3, fail={2, 3})
    done, prerun_seen = p.run()
    assert done == [1, 2, 3, 4]  # nothing from the failed attempts survives
    assert prerun_seen == [1, 2, 3, 4]  # each retry restarted at __prerun__, same run
    assert p.__run__.timer.num_times == 4  # only successful runs are timed
    assert p.__prerun__.timer.num_times == 4
    assert p.process_timer.num_times == 4


def test_lives_count_attempts_for_the_whole_process():
    # lives=2 allows one retry in all: the second failure ends the process.
    p = Flaky(runs=4, lives=2, fail={1, 3})
    p.start()
    assert p.wait(timeout=TIMEOUT) is True
    with pytest.raises(RunError, match=r"Error in __run__ on run 3") as info:
        p.result()
    assert info.value.current_run == 3
    assert p.done == [1, 2, 3]  # the final state is the failed attempt's


def test_one_life_means_no_retry():
    p = Flaky(runs=3, lives=1, fail={1})
    with pytest.raises(RunError, match=r"on run 1"):
        p.run()


class Stubborn(Skprocess):
    """Each attempt says "attempt", waits for a word, then fails."""

    def __init__(self):
        self.process_config.lives = 3

    def __run__(self):
        self.tell("attempt")
        self.listen(timeout=TIMEOUT)
        raise RuntimeError("always")


def test_kill_ignores_lives():
    p = Stubborn()
    p.start()
    assert p.listen(timeout=TIMEOUT) == "attempt"
    p.tell("fail")
    assert p.listen(timeout=TIMEOUT) == "attempt"  # the retry is running; a life is left
    p.kill()
    assert p.wait(timeout=TIMEOUT) is True
    assert p.result() is None
