"""The demo: what multiprocessing makes hard, done with suitkaise.processing.

1. A process whose state pickle refuses (a lock, a logger, a lambda, a class defined
   in this script) runs in its own OS process; its result and timers come back.
2. Four processes add to one shared counter 2,000 times each: no update is lost.
3. A child that dies (SIGKILL) gives a clear error at once instead of a hang.

Run it with ``python examples/demo.py``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
import threading

from suitkaise.processing import ProcessError, Share, Skprocess


class Scaler(Skprocess):
    """Scales numbers in a child process, three runs, with state pickle cannot take."""

    def __init__(self, factor: int) -> None:
        self.factor = factor
        self.scale = lambda x: x * self.factor  # a lambda: PicklingError with pickle
        self.lock = threading.Lock()  # TypeError with pickle
        self.log = logging.getLogger("demo.scaler")
        self.results: list[int] = []
        self.process_config.runs = 3

    def __run__(self) -> None:
        self.child_pid = os.getpid()
        with self.lock:
            self.results.append(self.scale(len(self.results) + 1))

    def __result__(self) -> list[int]:
        return self.results


class Adder(Skprocess):
    """Adds 1 to a shared counter, once per run."""

    def __init__(self, share: Share, times: int) -> None:
        self.share = share
        self.process_config.runs = times

    def __run__(self) -> None:
        self.share.counter += 1


class Doomed(Skprocess):
    """Kills itself the hard way on its first run."""

    def __run__(self) -> None:
        os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    process = Scaler(10)
    try:
        pickle.dumps(process.scale)
    except Exception as error:  # noqa: BLE001 - showing what pickle says
        print(f"1. pickle: {type(error).__name__}: {error}")
    result = process.run()
    print(
        f"   Skprocess ran in pid {process.child_pid} (parent {os.getpid()}), returned {result}; "
        f"{process.__run__.timer.num_times} runs timed, mean "
        f"{process.__run__.timer.mean * 1e6:.0f} us"
    )

    with Share() as share:
        share.counter = 0
        adders = [Adder(share, 2_000) for _ in range(4)]
        for adder in adders:
            adder.start()
        for adder in adders:
            adder.wait(timeout=120)
        print(f"2. four processes x 2,000 increments of share.counter -> {share.counter}")

    doomed = Doomed()
    doomed.start()
    try:
        doomed.result()
    except ProcessError as error:
        print(f"3. a child killed by SIGKILL: {type(error).__name__}: {error}")
    print(f"   children left running: {len(multiprocessing.active_children())}")


if __name__ == "__main__":
    main()
