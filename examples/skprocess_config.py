"""process_config from the processing guide, runnable.

``process_config`` already exists when your ``__init__`` runs, and can only be
changed there. ``MyProcess`` sets every value to its default; ``Configured`` uses
``runs``, ``join_in`` and a timeout.

Run it with ``python examples/skprocess_config.py``.
"""

from __future__ import annotations

import time

from suitkaise.processing import ProcessTimeoutError, Skprocess


class MyProcess(Skprocess):
    # can ONLY be updated in __init__
    def __init__(self):

        # none = infinite number of runs
        self.process_config.runs = None

        # none = no time limit before auto-joining
        self.process_config.join_in = None

        # 1 = no retries
        self.process_config.lives = 1

        # none = no timeout
        self.process_config.timeouts.prerun = None
        self.process_config.timeouts.run = None
        self.process_config.timeouts.postrun = None
        self.process_config.timeouts.onfinish = None
        self.process_config.timeouts.result = None
        self.process_config.timeouts.error = None

        self.count = 0

    def __run__(self):
        self.count += 1
        time.sleep(0.01)


class Configured(Skprocess):
    def __init__(self, runs, join_in, run_timeout=None):
        self.process_config.runs = runs
        self.process_config.join_in = join_in
        self.process_config.timeouts.run = run_timeout
        self.count = 0

    def __run__(self):
        self.count += 1
        time.sleep(0.05 if self.count < 3 else 1.0)


class Defaults(Skprocess):
    def __run__(self):
        pass


if __name__ == "__main__":
    print("defaults:", Defaults().process_config)
    p = MyProcess()
    print("MyProcess:", p.process_config)
    print("same as the defaults:", p.process_config == Defaults().process_config)

    # runs = None: runs until stopped
    p.start()
    time.sleep(0.3)
    p.stop()
    p.wait()
    print("runs=None ran until stop(), after", p.count, "run(s)")

    # runs = 2: two runs
    p = Configured(runs=2, join_in=None)
    p.run()
    print("runs=2 ran", p.count, "times")

    # join_in: stops by itself after its current run once 0.1s have passed
    p = Configured(runs=None, join_in=0.1)
    p.run()
    print("join_in=0.1 stopped it by itself after", p.count, "run(s)")

    # timeouts.run: the third run sleeps too long
    p = Configured(runs=5, join_in=None, run_timeout=0.5)
    try:
        p.run()
    except ProcessTimeoutError as e:
        print("ProcessTimeoutError:", e)

    # outside __init__ the config cannot change
    try:
        p.process_config.runs = 10
    except AttributeError as e:
        print("AttributeError:", e)
