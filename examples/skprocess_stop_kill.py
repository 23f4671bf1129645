"""stop() and kill() from the processing guide, runnable.

- ``stop()`` from the parent: the process finishes its current run, then runs
  ``__onfinish__`` and ``__result__``; it does not block.
- ``self.stop()`` inside the process: it stops itself the same way (here, once it
  has found what it was searching for).
- ``kill()``: immediate termination, no cleanup and no result.

Run it with ``python examples/skprocess_stop_kill.py``.
"""

from __future__ import annotations

import time

from suitkaise.processing import Skprocess


class MyProcess(Skprocess):
    """Searches for a number whose square ends in 444 (none, if ``target`` is None)."""

    def __init__(self, target=None):
        self.target = target
        self.n = 0
        self.found = None
        self.cleaned_up = False

    def __run__(self):

        found_what_we_need = self.target is not None and str(self.n * self.n).endswith(self.target)

        if found_what_we_need:
            # exit early
            self.found = self.n
            self.stop()

        else:
            self.n += 1
            time.sleep(0.001)

    def __onfinish__(self):
        self.cleaned_up = True

    def __result__(self):
        return self.found if self.found is not None else f"stopped after {self.n} tries"


if __name__ == "__main__":
    # stop() from the parent
    p = MyProcess()
    p.start()
    time.sleep(0.2)

    # manually signal to stop
    p.stop()

    p.wait()
    stopped = str(p.result()).split(" after")[0]
    print("stopped from the parent:", stopped, "| cleaned up:", p.cleaned_up)

    # self.stop() inside the process
    p = MyProcess("444")
    p.start()
    p.wait()
    found = p.result()
    print("stopped itself:", found, "squared is", found**2, "| cleaned up:", p.cleaned_up)

    # kill()
    p = MyProcess()
    p.start()
    time.sleep(0.2)

    p.kill()  # immediate termination

    # p.result() will be None
    print("after kill(): result is", p.result(), "| cleaned up:", p.cleaned_up)
