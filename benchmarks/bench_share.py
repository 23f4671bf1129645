"""Benchmark Share against multiprocessing's Manager and Value.

Run ``.venv/bin/python benchmarks/bench_share.py [--quick] [--reps R]``. Three
workloads, each from 2 worker processes at once:

1. increments: ``share.counter += 1`` against a ``Manager().Namespace()`` guarded by a
   ``Manager().Lock()`` (``with lock: ns.counter += 1``, the usual way to make it exact)
   and against ``multiprocessing.Value`` with its own lock (shared memory: the
   near-floor no server-based design can reach). Every repetition checks that the
   total is exact.
2. reads: ``share.counter`` against ``ns.counter`` and ``value.value`` (under its lock).
3. method calls on a shared object: ``share.timer.add_time(0.1)`` against the same
   ``Sktimer`` registered with a ``SyncManager`` (one proxy call each).

The machine is shared and noisy, so contenders alternate inside every repetition
(Share, Manager, Value, Share, ...), each batch lasts a few tenths of a second (its
size calibrated per contender), and only medians are reported. A batch's time runs
from the moment both workers are released (an Event) to the last one's end, and a
Share worker ends with a read, so its pipelined writes are all applied inside the
timed window. The target: Share increments at least 5x Manager+Lock's, and exact.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from multiprocessing.managers import SyncManager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from suitkaise.processing._context import get_context  # noqa: E402
from suitkaise.processing._share import Share  # noqa: E402
from suitkaise.timing import Sktimer  # noqa: E402

TARGET = 5.0
BATCH_SECONDS = 0.3
PROCS = 2
TIMEOUT = 120.0


class TimerManager(SyncManager):
    """A SyncManager that can hold an Sktimer (for the method-call workload)."""


TimerManager.register("Sktimer", Sktimer)


# ---------------------------------------------------------------- worker bodies


def share_incr(share: Any, n: int) -> None:
    for _ in range(n):
        share.counter += 1
    share.counter  # noqa: B018 - one read: every write above is applied


def manager_incr(ns: Any, lock: Any, n: int) -> None:
    for _ in range(n):
        with lock:
            ns.counter += 1


def value_incr(value: Any, n: int) -> None:
    for _ in range(n):
        with value.get_lock():
            value.value += 1


def share_read(share: Any, n: int) -> None:
    for _ in range(n):
        share.counter  # noqa: B018


def manager_read(ns: Any, lock: Any, n: int) -> None:
    for _ in range(n):
        ns.counter  # noqa: B018


def value_read(value: Any, n: int) -> None:
    for _ in range(n):
        with value.get_lock():
            value.value  # noqa: B018


def share_call(share: Any, n: int) -> None:
    for _ in range(n):
        share.timer.add_time(0.1)


def manager_call(timer: Any, n: int) -> None:
    for _ in range(n):
        timer.add_time(0.1)


def _worker(body: Callable[..., None], args: tuple[Any, ...], n: int, go: Any, out: Any) -> None:
    go.wait(TIMEOUT)
    body(*args, n)
    out.put(time.perf_counter())


# ---------------------------------------------------------------- measuring


class Contender:
    """One way of doing a workload: a worker body, its arguments and a counter check."""

    def __init__(self, name: str, body: Callable[..., None], args: tuple[Any, ...],
                 reset: Callable[[], None], total: Callable[[], int] | None) -> None:
        self.name = name
        self.body = body
        self.args = args
        self.reset = reset
        self.total = total
        self.n = 200
        self.rates: list[float] = []
        self.exact = True
        self.ops = 0  # operations run in all, calibration included

    def batch(self, ctx: Any, n: int) -> float:
        """Run n operations in each of PROCS workers; return operations per second."""
        self.reset()
        go, out = ctx.Event(), ctx.Queue()
        args = (self.body, self.args, n, go, out)
        procs = [ctx.Process(target=_worker, args=args) for _ in range(PROCS)]
        for proc in procs:
            proc.start()
        started = time.perf_counter()
        go.set()
        ends = [out.get(timeout=TIMEOUT) for _ in procs]
        for proc in procs:
            proc.join(TIMEOUT)
        self.ops += PROCS * n
        if self.total is not None and self.total() != PROCS * n:
            self.exact = False
        return PROCS * n / (max(ends) - started)

    def calibrate(self, ctx: Any) -> None:
        rate = self.batch(ctx, self.n)
        self.n = max(50, int(rate * BATCH_SECONDS / PROCS))


def run(workloads: dict[str, list[Contender]], reps: int, ctx: Any) -> None:
    for contenders in workloads.values():
        for contender in contenders:
            contender.calibrate(ctx)
    for rep in range(reps):
        for contenders in workloads.values():
            for contender in contenders:
                contender.rates.append(contender.batch(ctx, contender.n))
        print(f"  repetition {rep + 1}/{reps} done", file=sys.stderr)


def report(workloads: dict[str, list[Contender]], reps: int) -> bool:
    print(f"\nShare vs multiprocessing, {PROCS} worker processes, median of {reps} alternating "
          f"repetitions (operations per second; ratio = Share / other)\n")
    ok = True
    for workload, contenders in workloads.items():
        share_rate = statistics.median(contenders[0].rates)
        print(f"{workload}")
        for contender in contenders:
            rate = statistics.median(contender.rates)
            spread = f"{min(contender.rates):>10,.0f} .. {max(contender.rates):>10,.0f}"
            ratio = "" if contender is contenders[0] else f"   Share is {share_rate / rate:6.2f}x"
            exact = ""
            if contender.total is not None:
                exact = "   exact" if contender.exact else "   NOT EXACT"
            print(f"  {contender.name:<28} {rate:>12,.0f}/s   (range {spread}){ratio}{exact}")
        print()
    incr = workloads["increments"]
    ratio = statistics.median(incr[0].rates) / statistics.median(incr[1].rates)
    verdict = ratio >= TARGET and incr[0].exact
    ok = ok and verdict
    exactness = "exact" if incr[0].exact else "NOT exact"
    print(f"target: Share increments >= {TARGET:.0f}x Manager+Lock and exact: "
          f"{ratio:.1f}x, {exactness} -> {'PASS' if verdict else 'FAIL'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions instead of 7")
    parser.add_argument("--reps", type=int, default=None, help="number of repetitions")
    options = parser.parse_args()
    reps = options.reps or (3 if options.quick else 7)
    ctx = get_context()
    print(f"start method: {ctx.get_start_method()}", file=sys.stderr)

    share = Share()
    share.counter = 0
    share.timer = Sktimer()
    manager = TimerManager(ctx=ctx)
    manager.start()
    try:
        ns = manager.Namespace()
        ns.counter = 0
        lock = manager.Lock()
        mtimer = manager.Sktimer()
        value = ctx.Value("q", 0)

        def reset_share() -> None:
            share.counter = 0

        def reset_ns() -> None:
            ns.counter = 0

        def reset_value() -> None:
            with value.get_lock():
                value.value = 0

        def nothing() -> None:
            pass

        workloads = {
            "increments": [
                Contender("Share  share.counter += 1", share_incr, (share,), reset_share,
                          lambda: share.counter),
                Contender("Manager Namespace + Lock", manager_incr, (ns, lock), reset_ns,
                          lambda: ns.counter),
                Contender("Value + its lock", value_incr, (value,), reset_value,
                          lambda: value.value),
            ],
            "reads": [
                Contender("Share  share.counter", share_read, (share,), nothing, None),
                Contender("Manager ns.counter", manager_read, (ns, lock), nothing, None),
                Contender("Value .value under its lock", value_read, (value,), nothing, None),
            ],
            "method calls on a shared Sktimer": [
                Contender("Share  share.timer.add_time", share_call, (share,), nothing, None),
                Contender("Manager proxy .add_time", manager_call, (mtimer,), nothing, None),
            ],
        }
        run(workloads, reps, ctx)
        ok = report(workloads, reps)
        calls = workloads["method calls on a shared Sktimer"]
        expected = calls[0].ops
        print(f"(check: the shared Sktimer recorded {share.timer.num_times:,} times, "
              f"expected {expected:,})")
    finally:
        manager.shutdown()
        share.exit()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
