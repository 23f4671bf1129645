"""start(), run() and wait() from the processing guide, runnable.

``start()`` returns at once, ``wait()`` blocks until the process has finished (or
returns ``False`` when its timeout passes first), and ``run()`` does start + wait +
``result()`` in one call.

Run it with ``python examples/skprocess_start_wait.py``.
"""

from __future__ import annotations

import time

from suitkaise.processing import Skprocess


class MyProcess(Skprocess):
    """Sums the squares of 0..9, one number per run."""

    def __init__(self):
        self.total = 0
        self.n = 0
        self.process_config.runs = 10

    def __run__(self):
        time.sleep(0.01)
        self.total += self.n * self.n
        self.n += 1

    def __result__(self):
        return self.total


class Slow(Skprocess):
    """Takes about half a second."""

    def __init__(self):
        self.process_config.runs = 1

    def __run__(self):
        time.sleep(0.5)


def something_else():
    print("something_else() runs after p has finished")


if __name__ == "__main__":
    # start()
    p = MyProcess()
    p.start()
    print("start() returned while the process runs")
    p.wait()

    # run()
    p = MyProcess()
    result = p.run()
    print("run() returned", result)

    # wait()
    p = MyProcess()
    p.start()

    p.wait()

    # doesn't get called until p finishes
    something_else()
    print("p.total in the parent after wait():", p.total)

    # with timeout - returns False if timeout reached
    p = Slow()
    p.start()
    finished = p.wait(timeout=0.05)
    print("wait(timeout=0.05) on a slow process:", finished)
    finished = p.wait(timeout=10.0)
    print("wait(timeout=10.0):", finished)
