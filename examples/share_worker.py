"""The Share example from the processing guide, runnable.

Ten workers increment one shared counter and record into one shared Sktimer. The
first worker counts to 100 on its own (the loop starts the next worker only once the
counter reaches 100); each later worker runs once, sees the counter at 100 or more,
and stops. Then the Share is stopped, started again and cleared, as in the guide,
and a second part shows proxies and exact totals from several workers at once.

Run it with ``python examples/share_worker.py``.
"""

from __future__ import annotations

from suitkaise import timing
from suitkaise.processing import Share, Skprocess


class Worker(Skprocess):
    def __init__(self, share):
        self.share = share

    def __run__(self):
        self.share.counter += 1
        self.share.timer.add_time(0.1)

        if self.share.counter >= 100:
            self.stop()


class Adder(Skprocess):
    """Adds to a shared counter and list many times (part two)."""

    def __init__(self, share, tag, times):
        self.share = share
        self.tag = tag
        self.process_config.runs = times

    def __run__(self):
        self.share.total += 1  # one atomic request: no update is lost
        self.share.seen.append(self.tag)  # runs on the one real list


def main() -> None:
    share = Share()  # starts automatically

    share.timer = timing.Sktimer()
    share.counter = 0

    workers = []
    for _ in range(10):
        worker = Worker(share)
        worker.start()
        workers.append(worker)

        while share.counter < 100:
            timing.sleep(0.1)

    for worker in workers:  # (the guide waits for the last worker only)
        worker.wait()

    final_count = share.counter
    print(f"final count: {final_count}")  # 109
    print(f"timer: {share.timer.num_times} times, {share.timer.total_time:.1f} s in all")

    # stop sharing: the objects stay readable here
    share.exit()
    print(f"after exit(): counter is still {share.counter}")

    # start sharing again
    share.start()

    # clear the share of all objects
    share.clear()
    print(f"after clear(): has a counter? {hasattr(share, 'counter')}")

    # part two: exact totals from several processes at once
    share.total = 0
    share.seen = []
    adders = [Adder(share, tag, 1000) for tag in "abcd"]
    for adder in adders:
        adder.start()
    for adder in adders:
        adder.wait()
    print(f"4 workers x 1000 increments: {share.total}")  # 4000, exactly
    seen = share.seen  # a proxy: len() and count() run in the coordinator
    print(f"list: {len(seen)} items, {seen.count('a')} from worker a")

    with share:  # a context manager: exit() at the end of the block
        share.total += 1
    print(f"after the with block: {share.total} (read locally; the Share is stopped)")


if __name__ == "__main__":
    main()
