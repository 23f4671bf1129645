"""Benchmark the cluster pool: ``Pool(cluster=...)`` on a local 2-worker Dask cluster.

Run ``.venv/bin/python benchmarks/bench_cluster.py [--quick] [--reps R]`` (needs
``pip install 'suitkaise[cluster]'``); ``bench_pool.py --only e`` runs the same.
One ``distributed.LocalCluster`` with 2 worker processes of one thread each serves
every contender, in the same run, alternating (rotating order), medians reported:

(e1) tiny tasks ``x * 2`` over ``range(20_000)`` and ``range(1_000_000)``, tasks/s:
     the cluster pool against a hand-batched baseline, ``client.map`` over pickled
     chunks of ``len / (4 * workers)`` items (what a careful Dask user writes by hand:
     one Dask task per item manages only hundreds of items a second);
(e2) 200 CPU tasks ``sum(i * i for i in range(40_000))``, seconds: the cluster pool
     against the local pool (``Pool(2)``) and the same hand-batched baseline.

Targets: (e1) at least 0.9x the hand-batched baseline at both sizes; (e2) within
1.15x of the local pool's time.
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "src"))

from bench_pool import WORKERS, Verdicts, alternate, cpu_task, double, table, timed  # noqa: E402

from suitkaise.processing import Pool  # noqa: E402

__all__ = ("scenario_e",)


def run_pickled(fn: Callable[[Any], Any], blob: bytes) -> bytes:
    """The hand-batched baseline's Dask task: a pickled chunk in, pickled results out."""
    return pickle.dumps(list(map(fn, pickle.loads(blob))), 5)


class Contender:
    """One way to run a function over data on the cluster (or locally)."""

    def __init__(self, name: str, run: Callable[[Callable[[Any], Any], Any], list[Any]]) -> None:
        self.name = name
        self.run = run


def _hand_batched(client: Any) -> Contender:
    def run(fn: Callable[[Any], Any], data: Any) -> list[Any]:
        size = max(1, -(-len(data) // (4 * WORKERS)))
        blobs = [pickle.dumps(list(data[i:i + size]), 5) for i in range(0, len(data), size)]
        futures = client.map(run_pickled, [fn] * len(blobs), blobs, pure=False)
        out: list[Any] = []
        for blob in client.gather(futures):
            out.extend(pickle.loads(blob))
        return out

    return Contender("hand-batched client.map", run)


def scenario_e(reps: int, verdicts: Verdicts) -> None:
    """Run (e1) and (e2); add their verdicts."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                           dashboard_address=None, host="127.0.0.1")
    client = Client(cluster, set_as_default=False)
    ours = Pool(cluster=client)
    local = Pool(WORKERS)
    try:
        cluster_pool = Contender("suitkaise Pool(cluster=...)", ours.map)
        batched = _hand_batched(client)
        for n in (20_000, 1_000_000):
            data = range(n)
            expected = [x * 2 for x in data]
            for c in (cluster_pool, batched):
                assert c.run(double, data) == expected, c.name
            times = alternate([cluster_pool, batched], reps,  # type: ignore[list-item]
                              lambda c, data=data: timed(lambda: c.run(double, data)))
            rows = {name: n / statistics.median(ts) for name, ts in times.items()}
            table(f"(e1) {n:,} tiny tasks on a 2-worker Dask cluster", "tasks/s", rows,
                  batched.name, True)
            verdicts.check(f"(e1) cluster pool vs hand-batched client.map, {n:,} tasks",
                           rows[cluster_pool.name] / rows[batched.name], 0.9, "")
        local_pool = Contender("suitkaise Pool (local)", local.map)
        contenders = [cluster_pool, local_pool, batched]
        times = alternate(contenders, max(3, reps),  # type: ignore[arg-type]
                          lambda c: timed(lambda: c.run(cpu_task, range(200))))
        rows = {name: statistics.median(ts) for name, ts in times.items()}
        table("(e2) 200 CPU tasks", "s", rows, local_pool.name, False)
        verdicts.check("(e2) local pool time / cluster pool time",
                       rows[local_pool.name] / rows[cluster_pool.name], 1 / 1.15,
                       "(within 1.15x of the local pool)")
    finally:
        ours.terminate()
        local.terminate()
        client.close()
        cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--reps", type=int, help="repetitions (default 7, quick 3)")
    args = parser.parse_args()
    reps = args.reps or (3 if args.quick else 7)
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}")
    verdicts = Verdicts()
    scenario_e(reps, verdicts)
    print("\nVerdicts:")
    print("\n".join(verdicts.lines))
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
