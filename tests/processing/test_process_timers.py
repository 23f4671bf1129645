"""Timers: one Sktimer per defined lifecycle method, per instance, plus process_timer."""

from __future__ import annotations

import time

import pytest

from suitkaise.processing import Skprocess
from suitkaise.timing import Sktimer

# Every test runs under fork, forkserver and spawn.
pytestmark = pytest.mark.usefixtures("start_method")


class Timed(Skprocess):
    def __init__(self, runs):
        self.process_config.runs = runs

    def __prerun__(self):
        time.sleep(0.002)

    def __run__(self):
        time.sleep(0.004)

    def __postrun__(self):
        pass

    def __onfinish__(self):
        pass

    def __result__(self):
        return "done"

    def __error__(self):
        return "failed"


class RunOnly(Skprocess):
    def __init__(self):
        self.process_config.runs = 2

    def __run__(self):
        pass


def test_every_defined_method_has_a_timer_filled_in_the_child():
    p = Timed(runs=3)
    assert p.run() == "done"
    counts = {name: getattr(p, name).timer.num_times
              for name in ("__prerun__", "__run__", "__postrun__", "__onfinish__", "__result__",
                           "__error__")}
    assert counts == {"__prerun__": 3, "__run__": 3, "__postrun__": 3,
                      "__onfinish__": 1, "__result__": 1, "__error__": 0}
    assert all(isinstance(getattr(p, n).timer, Sktimer) for n in counts)
    assert p.__run__.timer.min >= 0.004
    assert p.__prerun__.timer.min >= 0.002


def test_process_timer_adds_prerun_run_and_postrun_per_run():
    p = Timed(runs=3)
    p.run()
    timer = p.process_timer
    assert timer.num_times == 3
    for i in range(3):
        parts = sum(getattr(p, n).timer.times[i] for n in ("__prerun__", "__run__", "__postrun__"))
        assert timer.times[i] == pytest.approx(parts)


def test_timers_exist_only_for_methods_the_class_defines():
    p = RunOnly()
    p.run()
    assert p.__run__.timer.num_times == 2
    assert p.process_timer.num_times == 2
    for name in ("__prerun__", "__postrun__", "__onfinish__", "__result__", "__error__"):
        with pytest.raises(AttributeError):
            getattr(p, name)


def test_timers_are_per_instance():
    a, b = RunOnly(), RunOnly()
    a.run()
    assert a.__run__.timer.num_times == 2
    assert b.__run__.timer.num_times == 0
    assert a.__run__.timer is not b.__run__.timer


def test_lifecycle_methods_stay_callable_and_comparable():
    p = RunOnly()
    assert p.__run__() is None
    assert p.__run__ == p.__run__
    assert p.__run__.__name__ == "__run__"
    assert p.__run__.__self__ is p
