"""The Timing section of the processing guide, runnable.

Every lifecycle method you define gets an ``Sktimer`` (``p.__run__.timer`` ...), and
``p.process_timer`` records prerun + run + postrun once per run. The timers are
filled in the process and come back to the parent when it finishes.

Run it with ``python examples/skprocess_timing.py``.
"""

from __future__ import annotations

import time

from suitkaise.processing import Skprocess


class MyProcess(Skprocess):
    def __init__(self):

        self.process_config.runs = 3
        self.results = []

    def __prerun__(self):

        time.sleep(0.01)

    def __run__(self):

        time.sleep(0.03)
        self.results.append(len(self.results))

    def __postrun__(self):

        time.sleep(0.01)

    def __onfinish__(self):

        time.sleep(0.005)

    def __result__(self):

        return self.results

    def __error__(self):

        return None


class OnlyRun(Skprocess):
    def __init__(self):
        self.process_config.runs = 1

    def __run__(self):
        pass


def show(name, timer):
    print(
        f"{name:16} {timer.num_times} time(s), mean {timer.mean * 1000:.0f} ms"
        if timer.num_times
        else f"{name:16} {timer.num_times} time(s)"
    )


if __name__ == "__main__":
    p = MyProcess()
    p.start()

    p.wait()

    prerun_timer = p.__prerun__.timer
    run_timer = p.__run__.timer
    postrun_timer = p.__postrun__.timer
    onfinish_timer = p.__onfinish__.timer
    result_timer = p.__result__.timer
    error_timer = p.__error__.timer

    # adds prerun, run, and postrun times together
    full_run_timer = p.process_timer

    for name, timer in [
        ("prerun_timer", prerun_timer),
        ("run_timer", run_timer),
        ("postrun_timer", postrun_timer),
        ("onfinish_timer", onfinish_timer),
        ("result_timer", result_timer),
        ("error_timer", error_timer),
        ("full_run_timer", full_run_timer),
    ]:
        show(name, timer)

    adds_up = all(
        abs(full - (pre + run + post)) < 1e-9
        for full, pre, run, post in zip(
            full_run_timer.times,
            prerun_timer.times,
            run_timer.times,
            postrun_timer.times,
            strict=True,
        )
    )
    print("process_timer adds prerun + run + postrun for each run:", adds_up)

    # timers exist only for the lifecycle methods the class defines
    q = OnlyRun()
    q.run()
    show("q run_timer", q.__run__.timer)
    try:
        print(q.__prerun__.timer)
    except AttributeError as e:
        print("no __prerun__, no timer:", type(e).__name__)
