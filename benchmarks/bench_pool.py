"""Benchmark suitkaise's Pool against the stdlib pools, loky, mpire, pebble and a serial loop.

Run ``.venv/bin/python benchmarks/bench_pool.py [--quick] [--reps R] [--only a,b,c,d,e]
[--peers mp]`` (needs ``pip install loky mpire pebble``, unless ``--peers mp`` keeps
only suitkaise and ``multiprocessing.Pool``). Every pool gets 2 workers. Scenarios:

(a) tiny tasks ``x * 2`` over ``range(20_000)`` and ``range(1_000_000)``: tasks/s;
    also the same over a ``list`` (informational: an input that must be serialized);
(b) 200 CPU tasks, each ``sum(i * i for i in range(40_000))``: seconds; beside the pools,
    the same tasks split between two warm bare forked processes (no pool: the floor);
(c) pool creation to the first result of one task: milliseconds;
(d) 2,000 tasks each returning 1 MB of ``bytes``, consumed as they arrive: MB/s;
(e) the cluster pool, ``Pool(cluster=...)``, on a local 2-worker Dask cluster beside a
    hand-batched ``client.map`` over pickled chunks, and the local pool (see
    ``bench_cluster.py``, which runs it alone; needs Dask distributed).

The machine this runs on is shared and noisy, so the contenders alternate inside every
repetition (in a rotating order), only medians are reported, and a warm-up call per
contender precedes the timed ones. The short measurements get more repetitions: (a)
at 20,000 times batches of 10 calls, (b) and (c) run twice as many repetitions. Pools are
created once per scenario and reused
(persistent workers), except in (c), which times the creation itself.

Chunk sizes: ``multiprocessing.Pool`` and mpire choose their own (``len / (4 *
workers)``); ``ProcessPoolExecutor``, loky and pebble default to one task per
message, so they get that same chunk size explicitly (one task per chunk in (d)).
suitkaise picks its own (adaptive) in every scenario.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

WORKERS = 2
MB = 1_000_000

# ------------------------------------------------------------------ the tasks


def double(x: int) -> int:
    return x * 2


def cpu_task(_: int) -> int:
    return sum(i * i for i in range(40_000))


def megabyte(i: int) -> bytes:
    return bytes([i & 255]) * MB


# ---------------------------------------------------------------- contenders


def _chunks(n: int) -> int:
    """multiprocessing.Pool's default chunk size for n tasks."""
    return max(1, math.ceil(n / (4 * WORKERS)))


class Contender:
    """One pool library behind the three operations the scenarios need."""

    name = ""
    start_method = ""

    def open(self) -> None:
        raise NotImplementedError

    def map(self, fn: Callable[[Any], Any], data: Any) -> list[Any]:
        raise NotImplementedError

    def unordered(self, fn: Callable[[Any], Any], data: Any) -> Iterable[Any]:
        raise NotImplementedError

    def first(self) -> Any:
        """Create a pool and return the result of one task (scenario c)."""
        self.open()
        return self.one()

    def one(self) -> Any:
        return self.map(double, [1])[0]

    def close(self) -> None:
        raise NotImplementedError


class Suitkaise(Contender):
    def __init__(self, method: str) -> None:
        self.name = f"suitkaise Pool ({method})"
        self.start_method = method

    def open(self) -> None:
        from suitkaise.processing._pool import Pool

        self.pool = Pool(WORKERS, start_method=self.start_method)

    def map(self, fn, data):
        return self.pool.map(fn, data)

    def unordered(self, fn, data):
        return self.pool.unordered_imap(fn, data)

    def close(self) -> None:
        self.pool.terminate()


class MpPool(Contender):
    def __init__(self, method: str) -> None:
        self.name = f"multiprocessing.Pool ({method})"
        self.start_method = method

    def open(self) -> None:
        import multiprocessing

        self.pool = multiprocessing.get_context(self.start_method).Pool(WORKERS)

    def map(self, fn, data):
        return self.pool.map(fn, data)

    def unordered(self, fn, data):
        return self.pool.imap_unordered(fn, data)

    def one(self):
        return self.pool.apply(double, (1,))

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()


class _FuturesPool(Contender):
    """A ``concurrent.futures.Executor`` (the stdlib's, loky's): ``self.pool``."""

    pool: Any

    def map(self, fn, data):
        return list(self.pool.map(fn, data, chunksize=_chunks(len(data))))

    def unordered(self, fn, data):
        from concurrent.futures import as_completed

        return (f.result() for f in as_completed([self.pool.submit(fn, x) for x in data]))

    def one(self):
        return self.pool.submit(double, 1).result()


class Executor(_FuturesPool):
    name = "concurrent.futures ProcessPoolExecutor (fork)"
    start_method = "fork"

    def open(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("fork"))

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class Loky(_FuturesPool):
    name = "loky (loky: fork+exec)"
    start_method = "spawn"

    def open(self) -> None:
        import loky

        self.pool = loky.ProcessPoolExecutor(WORKERS)

    def close(self) -> None:
        self.pool.shutdown(wait=True, kill_workers=True)


class Mpire(Contender):
    name = "mpire (fork)"
    start_method = "fork"

    def open(self) -> None:
        from mpire import WorkerPool

        self.pool = WorkerPool(n_jobs=WORKERS, keep_alive=True, start_method="fork")

    def map(self, fn, data):
        return self.pool.map(fn, data)

    def unordered(self, fn, data):
        return self.pool.imap_unordered(fn, data, chunk_size=1)

    def close(self) -> None:
        self.pool.terminate()


class Pebble(Contender):
    name = "pebble ProcessPool (fork)"
    start_method = "fork"

    def open(self) -> None:
        import multiprocessing

        from pebble import ProcessPool

        self.pool = ProcessPool(max_workers=WORKERS, context=multiprocessing.get_context("fork"))

    def map(self, fn, data):
        return list(self.pool.map(fn, data, chunksize=_chunks(len(data))).result())

    def unordered(self, fn, data):
        from concurrent.futures import as_completed

        return (f.result() for f in as_completed([self.pool.schedule(fn, args=(x,)) for x in data]))

    def one(self):
        return self.pool.schedule(double, args=(1,)).result()

    def close(self) -> None:
        self.pool.stop()
        self.pool.join()


class Serial(Contender):
    name = "serial loop"
    start_method = ""

    def open(self) -> None:
        pass

    def map(self, fn, data):
        return list(map(fn, data))

    def unordered(self, fn, data):
        return map(fn, data)

    def close(self) -> None:
        pass


class BareForks(Contender):
    """No pool: two processes forked at the start, each running its half of (b)'s
    tasks whenever it is told to (a byte on a pipe), and saying when it is done.

    The floor of (b) on this machine: what two warm processes cost against one serial
    loop, with no dispatching at all. Informational, in (b) only.
    """

    name = "no pool: 2 bare forked processes (floor)"
    start_method = "fork"

    def __init__(self, fn: Callable[[Any], Any], data: Any) -> None:
        self.fn = fn
        self.data = list(data)

    def open(self) -> None:
        self.go_r, self.go_w = os.pipe()
        self.done_r, self.done_w = os.pipe()
        self.pids = []
        for k in range(WORKERS):
            pid = os.fork()
            if pid == 0:
                try:
                    half = self.data[k::WORKERS]
                    while os.read(self.go_r, 1) == b"g":
                        for item in half:
                            self.fn(item)
                        os.write(self.done_w, b"x")
                finally:
                    os._exit(0)
            self.pids.append(pid)

    def map(self, fn, data):
        assert fn is self.fn and list(data) == self.data
        os.write(self.go_w, b"g" * len(self.pids))
        finished = 0
        while finished < len(self.pids):
            finished += len(os.read(self.done_r, len(self.pids)))

    def close(self) -> None:
        os.write(self.go_w, b"q" * len(self.pids))
        for pid in self.pids:
            os.waitpid(pid, 0)
        for fd in (self.go_r, self.go_w, self.done_r, self.done_w):
            os.close(fd)


PEER_SETS = ("all", "mp")
_peer_set = "all"


def peers() -> list[Contender]:
    if _peer_set == "mp":
        return [Suitkaise("fork"), MpPool("fork"), MpPool("spawn"), Serial()]
    return [
        Suitkaise("fork"),
        MpPool("fork"),
        MpPool("spawn"),
        Executor(),
        Loky(),
        Mpire(),
        Pebble(),
        Serial(),
    ]


OURS = "suitkaise Pool (fork)"
MP_FORK = "multiprocessing.Pool (fork)"

# ---------------------------------------------------------------- measuring


def alternate(contenders: list[Contender], reps: int,
              run: Callable[[Contender], float]) -> dict[str, list[float]]:
    """Time ``run(contender)`` *reps* times each, alternating, in a rotating order."""
    times: dict[str, list[float]] = {c.name: [] for c in contenders}
    for c in contenders:
        run(c)  # warm-up
    for rep in range(reps):
        shift = rep % len(contenders)
        for c in contenders[shift:] + contenders[:shift]:
            gc.collect()
            times[c.name].append(run(c))
    return times


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def opened(contenders: list[Contender]) -> list[Contender]:
    for c in contenders:
        c.open()
    return contenders


def close_all(contenders: list[Contender]) -> None:
    for c in contenders:
        try:
            c.close()
        except Exception as exc:  # a peer failing to close must not hide the results
            print(f"  (closing {c.name} failed: {exc!r})")


def table(title: str, unit: str, rows: dict[str, float], ref: str, higher_is_better: bool) -> None:
    print(f"\n{title}")
    width = max(map(len, rows))
    base = rows.get(ref)
    for name, value in rows.items():
        ratio = ""
        if base and value:
            r = value / base if higher_is_better else base / value
            ratio = f"{r:6.2f}x vs {ref}"
        print(f"  {name:<{width}}  {value:>14,.2f} {unit:<8} {ratio}")


class Verdicts:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def check(self, label: str, value: float, target: float, detail: str) -> None:
        verdict = "PASS" if value >= target else "FAIL"
        self.lines.append(f"  [{verdict}] {label}: {value:.3f} (target >= {target:g}) {detail}")


# ----------------------------------------------------------------- scenarios


def scenario_a(reps: int, verdicts: Verdicts) -> None:
    for n in (20_000, 1_000_000):
        contenders = opened(peers())
        try:
            for kind in ("range", "list"):
                data: Any = range(n) if kind == "range" else list(range(n))
                batch = max(1, 200_000 // n)  # 10 calls a measurement at 20,000: less jitter

                def run(c: Contender, data: Any = data, batch: int = batch) -> float:
                    return timed(lambda: [c.map(double, data) for _ in range(batch)]) / batch

                if kind == "list":
                    chosen = [c for c in contenders if c.name in (OURS, MP_FORK)]
                else:
                    chosen = contenders
                times = alternate(chosen, reps, run)
                rates = {name: n / statistics.median(t) for name, t in times.items()}
                label = f"(a) {n:,} tiny tasks (x * 2) over a {kind}"
                if kind == "list":
                    label += " (informational)"
                table(label, "tasks/s", rates, MP_FORK, True)
                if kind == "range":
                    verdicts.check(f"(a) {n:,} tiny tasks, suitkaise / multiprocessing.Pool",
                                   rates[OURS] / rates[MP_FORK], 1.3, "")
        finally:
            close_all(contenders)


def scenario_b(reps: int, verdicts: Verdicts) -> None:
    data = range(200)
    floor = [BareForks(cpu_task, data)] if hasattr(os, "fork") else []
    contenders = opened(peers() + floor)
    try:
        times = alternate(contenders, reps, lambda c: timed(lambda: c.map(cpu_task, data)))
    finally:
        close_all(contenders)
    seconds = {name: statistics.median(t) for name, t in times.items()}
    table("(b) 200 CPU tasks (sum of i*i over range(40,000))", "ms",
          {name: s * 1e3 for name, s in seconds.items()}, MP_FORK, False)
    ours = seconds[OURS]
    verdicts.check("(b) CPU tasks, speed vs multiprocessing.Pool", seconds[MP_FORK] / ours,
                   0.97, "")
    half = seconds["serial loop"] / WORKERS
    verdicts.check("(b) CPU tasks, (serial / 2) * 1.1 / suitkaise", half * 1.1 / ours, 1.0,
                   f"(suitkaise {ours:.4f} s, serial / 2 = {half:.4f} s)")
    if BareForks.name in seconds:
        floor = seconds[BareForks.name]
        print(f"  the floor (no pool) takes {floor / half:.3f}x serial / 2; "
              f"suitkaise {ours / floor:.3f}x the floor")


def scenario_c(reps: int, verdicts: Verdicts) -> None:
    contenders = [c for c in peers() if c.name != "serial loop"] + [Suitkaise("spawn")]

    def run(c: Contender) -> float:
        start = time.perf_counter()
        assert c.first() == 2
        elapsed = time.perf_counter() - start
        c.close()
        return elapsed

    times = alternate(contenders, reps, run)
    ms = {name: statistics.median(t) * 1000 for name, t in times.items()}
    table("(c) pool creation to the first result", "ms", ms, MP_FORK, False)
    for method in ("fork", "spawn"):
        ours = ms[f"suitkaise Pool ({method})"]
        theirs = ms[f"multiprocessing.Pool ({method})"]
        verdicts.check(f"(c) startup ({method}), multiprocessing.Pool / suitkaise",
                       theirs / ours, 1.0,
                       f"({theirs:.1f} ms / {ours:.1f} ms)")


def scenario_d(reps: int, verdicts: Verdicts) -> None:
    contenders = opened(peers())
    count = 2_000

    def run(c: Contender) -> float:
        start = time.perf_counter()
        total = 0
        for result in c.unordered(megabyte, range(count)):
            total += len(result)
        elapsed = time.perf_counter() - start
        assert total == count * MB, (c.name, total)
        return elapsed

    try:
        times = alternate(contenders, reps, run)
    finally:
        close_all(contenders)
    rates = {name: count * MB / statistics.median(t) / 1e6 for name, t in times.items()}
    table("(d) 2,000 tasks returning 1 MB each, results consumed as they arrive", "MB/s", rates,
          MP_FORK, True)
    pools = {name: rate for name, rate in rates.items() if name not in (OURS, "serial loop")}
    best = max(pools, key=pools.__getitem__)
    verdicts.check("(d) 1 MB results, suitkaise / best peer", rates[OURS] / pools[best], 1.5,
                   f"(best peer: {best})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (about 3 minutes)")
    parser.add_argument("--reps", type=int,
                        help="repetitions of (a) and (d); (b) and (c) get twice as many")
    parser.add_argument("--only", default="a,b,c,d,e", help="scenarios to run, e.g. a,c")
    parser.add_argument("--peers", choices=PEER_SETS, default="all",
                        help="'mp': compare with multiprocessing.Pool only")
    args = parser.parse_args()
    global _peer_set
    _peer_set = args.peers
    reps = args.reps or (5 if args.quick else 9)
    reps_d = max(2, reps // 3) if args.reps is None else args.reps
    chosen = set(args.only.split(","))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

    print(f"Pool benchmark: {WORKERS} workers, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; medians of alternating "
          f"repetitions: {reps} for (a), {2 * reps} for (b), {max(15, 2 * reps)} for (c), "
          f"{reps_d} for (d); bytecode cache writes {'off' if sys.dont_write_bytecode else 'on'}")
    verdicts = Verdicts()
    started = time.perf_counter()
    if "a" in chosen:
        scenario_a(reps, verdicts)
    if "b" in chosen:
        scenario_b(2 * reps, verdicts)
    if "c" in chosen:
        scenario_c(max(15, 2 * reps), verdicts)
    if "d" in chosen:
        scenario_d(reps_d, verdicts)
    if "e" in chosen:
        from bench_cluster import scenario_e

        scenario_e(reps, verdicts)
    print(f"\nTargets (load average now {os.getloadavg()[0]:.2f}, "
          f"{time.perf_counter() - started:.0f} s in all):")
    print("\n".join(verdicts.lines))


if __name__ == "__main__":
    main()
