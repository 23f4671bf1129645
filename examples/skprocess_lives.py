"""The ``lives`` system from the processing guide, runnable.

With ``process_config.lives = 3`` a failed run is retried (from ``__prerun__``) up to
twice more, starting from the state saved at the end of the last successful run: what
the failed attempt changed is rolled back. ``wait()`` returns only once the process
has finished for good. ``kill()`` ignores lives.

Run it with ``python examples/skprocess_lives.py``.
"""

from __future__ import annotations

import time

from suitkaise.processing import RunError, Skprocess

# Lives in the child process and is not part of the saved state, so it survives a
# retry: run 2 fails on its first `failures` attempts (a flaky connection, say).
ATTEMPTS = {}


class MyProcess(Skprocess):
    def __init__(self, failures=1):

        # 3 attempts total
        self.process_config.lives = 3

        self.process_config.runs = 3
        self.failures = failures
        self.log = []
        self.total = 0

    def __prerun__(self):
        self.log.append(f"prerun {len(self.log)}")

    def __run__(self):
        run = self.total + 1
        self.total += 1  # rolled back if this run fails
        ATTEMPTS[run] = ATTEMPTS.get(run, 0) + 1
        if run == 2 and ATTEMPTS[run] <= self.failures:
            raise ConnectionError(f"flaky connection (attempt {ATTEMPTS[run]})")

    def __result__(self):
        return self.total, ATTEMPTS


class Forever(Skprocess):
    def __init__(self):
        self.process_config.lives = 3

    def __run__(self):
        time.sleep(0.01)


if __name__ == "__main__":
    # run 2 fails once, then succeeds on its second life
    p = MyProcess(failures=1)
    p.start()
    p.wait()  # returns only when the process has finished for good
    total, attempts = p.result()
    print("total:", total, "| attempts per run:", attempts)
    print("log (the failed attempt's prerun was rolled back too):", p.log)

    # run 2 fails three times: out of lives
    p = MyProcess(failures=3)
    try:
        p.run()
    except RunError as e:
        print(f"out of lives: {e} ({e.original_error})")

    # kill() ignores lives
    p = Forever()
    p.start()
    time.sleep(0.1)
    p.kill()
    print("killed; wait() returns", p.wait(), "and result() is", p.result())
