"""Benchmark Skprocess against bare multiprocessing, per start method.

Run ``.venv/bin/python benchmarks/bench_process.py [--quick] [--reps R]``. Prints:

0. the clock check: a timestamp taken in a child (``time.perf_counter``, which is
   ``CLOCK_MONOTONIC`` on Linux, one clock for the whole system) falls between the
   parent's timestamps before and after asking for it, so times taken in different
   processes can be subtracted;
1. start latency: from calling ``start()`` until the child's first ``__run__`` begins
   (the child notes ``time.perf_counter()`` on entering ``__run__``), against a bare
   ``multiprocessing.Process`` + ``Pipe`` of the same start method whose target sends
   its own ``perf_counter()`` as it starts; for ``fork``, ``forkserver`` and ``spawn``;
   plus the default start method and the numbers behind choosing it;
2. tell/listen round trips per second (parent ``tell`` -> child ``listen`` -> child
   ``tell`` back -> parent ``listen``), with an int and with 1 MB of bytes, against a
   raw ``multiprocessing.Pipe`` echo loop (``send``/``recv`` for the int,
   ``send_bytes``/``recv_bytes`` for the bytes) of the same start method.

The machine is shared and noisy: the contenders alternate inside every repetition
(and swap which one goes first each time), and only medians are reported.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from suitkaise.processing import Skprocess, get_start_method, set_start_method
from suitkaise.processing._context import default_start_method

METHODS = ("fork", "forkserver", "spawn")
START_TARGET = 1.2  # Skprocess start latency at most this many times the bare Process's
ROUNDTRIP_TARGET = 0.8  # Skprocess round trips/s at least this fraction of a raw Pipe's
STOP = "stop"  # tells an echo loop to end
MB = 1024 * 1024

now = time.perf_counter


# --------------------------------------------------------------------- the contenders


class StartProbe(Skprocess):
    """One run; notes the time its first __run__ begins and returns it."""

    def __init__(self) -> None:
        self.process_config.runs = 1
        self.began: float | None = None

    def __run__(self) -> None:
        if self.began is None:
            self.began = now()

    def __result__(self) -> float | None:
        return self.began


def bare_start_target(conn: Connection) -> None:
    conn.send(now())
    conn.close()


class Echo(Skprocess):
    """Tells back whatever it hears, until it hears STOP."""

    def __run__(self) -> None:
        message = self.listen()
        if isinstance(message, str) and message == STOP:
            self.stop()
            return
        self.tell(message)


def raw_echo(conn: Connection, as_bytes: bool) -> None:
    if as_bytes:
        while True:
            data = conn.recv_bytes()
            if data == STOP.encode():
                break
            conn.send_bytes(data)
    else:
        while True:
            obj = conn.recv()
            if obj == STOP:
                break
            conn.send(obj)
    conn.close()


def clock_echo(conn: Connection) -> None:
    while conn.recv() is not None:
        conn.send(now())
    conn.close()


# ------------------------------------------------------------------------- the clock


def check_clock(method: str, pings: int) -> tuple[int, float, float]:
    """Ask a child of *method* for its perf_counter() *pings* times (after one warm-up
    ping, which waits for the child to start). Returns how many answers lay between
    the parent's clock before and after asking, and the median and widest window."""
    ctx = multiprocessing.get_context(method)
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=clock_echo, args=(child,))
    proc.start()
    child.close()
    inside, windows = 0, []
    try:
        parent.send(True)
        parent.recv()
        for _ in range(pings):
            before = now()
            parent.send(True)
            theirs = parent.recv()
            after = now()
            inside += before <= theirs <= after
            windows.append(after - before)
    finally:
        parent.send(None)
        proc.join()
        parent.close()
    return inside, statistics.median(windows), max(windows)


# ------------------------------------------------------------------- start latency


@dataclass
class StartResult:
    sk: list[float] = field(default_factory=list)  # start() -> first __run__
    bare: list[float] = field(default_factory=list)  # Process.start() -> target runs
    sk_returns: list[float] = field(default_factory=list)  # time start() blocks the caller
    bare_returns: list[float] = field(default_factory=list)


def start_sk(method: str, result: StartResult | None) -> None:
    set_start_method(method)
    try:
        p = StartProbe()
        t0 = now()
        p.start()
        t1 = now()
        began = p.result()
    finally:
        set_start_method(None)
    if result is not None:
        result.sk.append(began - t0)
        result.sk_returns.append(t1 - t0)


def start_bare(method: str, result: StartResult | None) -> None:
    ctx = multiprocessing.get_context(method)
    t0 = now()
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=bare_start_target, args=(child,))
    proc.start()
    t1 = now()
    child.close()
    began = parent.recv()
    proc.join()
    parent.close()
    if result is not None:
        result.bare.append(began - t0)
        result.bare_returns.append(t1 - t0)


def measure_start(method: str, reps: int) -> StartResult:
    start_sk(method, None)  # warm-up: the forkserver, imports, first allocations
    start_bare(method, None)
    result = StartResult()
    for rep in range(reps):
        order = (start_sk, start_bare) if rep % 2 == 0 else (start_bare, start_sk)
        for contender in order:
            gc.collect()
            contender(method, result)
    return result


# --------------------------------------------------------------------- round trips


class SkEchoer:
    name = "Skprocess"

    def __init__(self, method: str) -> None:
        set_start_method(method)
        try:
            self.p = Echo()
            self.p.start()
        finally:
            set_start_method(None)

    def roundtrip(self, obj: Any) -> Any:
        self.p.tell(obj)
        return self.p.listen()

    def batch(self, obj: Any, count: int) -> float:
        p = self.p
        t0 = now()
        for _ in range(count):
            p.tell(obj)
            p.listen()
        return now() - t0

    def close(self) -> None:
        self.p.tell(STOP)
        self.p.wait()


class RawEchoer:
    name = "raw Pipe"

    def __init__(self, method: str, as_bytes: bool) -> None:
        ctx = multiprocessing.get_context(method)
        self.conn, child = ctx.Pipe()
        self.as_bytes = as_bytes
        self.proc = ctx.Process(target=raw_echo, args=(child, as_bytes))
        self.proc.start()
        child.close()

    def roundtrip(self, obj: Any) -> Any:
        if self.as_bytes:
            self.conn.send_bytes(obj)
            return self.conn.recv_bytes()
        self.conn.send(obj)
        return self.conn.recv()

    def batch(self, obj: Any, count: int) -> float:
        conn = self.conn
        t0 = now()
        if self.as_bytes:
            for _ in range(count):
                conn.send_bytes(obj)
                conn.recv_bytes()
        else:
            for _ in range(count):
                conn.send(obj)
                conn.recv()
        return now() - t0

    def close(self) -> None:
        if self.as_bytes:
            self.conn.send_bytes(STOP.encode())
        else:
            self.conn.send(STOP)
        self.proc.join()
        self.conn.close()


def batch_size(echoer: SkEchoer | RawEchoer, obj: Any, seconds: float) -> int:
    count = 1
    while True:
        elapsed = echoer.batch(obj, count)
        if elapsed >= seconds / 10 or count >= 1_000_000:
            return max(1, round(count * seconds / max(elapsed, 1e-9)))
        count *= 4


def measure_roundtrips(method: str, obj: Any, reps: int, seconds: float) -> dict[str, list[float]]:
    """Round trips per second of each contender, one value per repetition."""
    as_bytes = isinstance(obj, bytes)
    echoers: list[SkEchoer | RawEchoer] = [SkEchoer(method), RawEchoer(method, as_bytes)]
    try:
        for echoer in echoers:
            back = echoer.roundtrip(obj)
            assert back == obj, f"{echoer.name} echoed something else"
        counts = [batch_size(echoer, obj, seconds) for echoer in echoers]
        rates: dict[str, list[float]] = {echoer.name: [] for echoer in echoers}
        for rep in range(reps):
            pairs = list(zip(echoers, counts, strict=True))
            if rep % 2:
                pairs.reverse()
            for echoer, count in pairs:
                gc.collect()
                gc.disable()
                try:
                    elapsed = echoer.batch(obj, count)
                finally:
                    gc.enable()
                rates[echoer.name].append(count / elapsed)
        return rates
    finally:
        for echoer in echoers:
            echoer.close()


# ------------------------------------------------------------------------- printing


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def rate(per_second: float) -> str:
    return f"{per_second:,.0f}/s"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  "
            + "  ".join(
                str(cell).rjust(w) if i else str(cell).ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def describe_default() -> tuple[str, str]:
    """The default start method now, and with a thread of the user's running."""
    now_default = default_start_method()
    gate = threading.Event()
    user_thread = threading.Thread(target=gate.wait, daemon=True)
    user_thread.start()
    try:
        with_thread = default_start_method()
    finally:
        gate.set()
        user_thread.join()
    return now_default, with_thread


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="7 repetitions everywhere and 0.05 s batches (default: 21 start "
        "repetitions, 11 round-trip repetitions of 0.2 s batches)",
    )
    parser.add_argument("--reps", type=int, help="repetitions for both parts (at least 7)")
    parser.add_argument(
        "--methods",
        default=",".join(METHODS),
        help="comma-separated start methods to measure (default: all three)",
    )
    args = parser.parse_args(argv)
    if args.reps is not None and args.reps < 7:
        parser.error("--reps must be at least 7 (medians of at least 7 repetitions)")
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        parser.error(f"--methods takes some of {', '.join(METHODS)}, got {args.methods!r}")
    args.methods = methods
    args.start_reps = args.reps or (7 if args.quick else 21)
    args.rt_reps = args.reps or (7 if args.quick else 11)
    args.batch_seconds = 0.05 if args.quick else 0.2
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    info = time.get_clock_info("perf_counter")
    print(
        f"Skprocess vs bare multiprocessing; Python {sys.version.split()[0]} on {sys.platform}, "
        f"{os.cpu_count()} CPUs; medians of {args.start_reps} (start) / {args.rt_reps} "
        f"(round trips) alternating repetitions"
    )
    if hasattr(os, "getloadavg"):
        print("load average at the start (1, 5, 15 min): " + ", ".join(
            f"{load:.2f}" for load in os.getloadavg()
        ))
    print()

    # 0. the clock
    print(f"Clock: time.perf_counter = {info.implementation}, resolution {info.resolution:g} s")
    clocks_ok = True
    pings = 50
    for method in args.methods:
        inside, median_window, widest = check_clock(method, pings)
        clocks_ok = clocks_ok and inside == pings
        print(
            f"  {method:10} the child's perf_counter() lay between the parent's before/after "
            f"on {inside}/{pings} pings (window median {median_window * 1e6:.0f} us, "
            f"widest {widest * 1e6:.0f} us)"
        )
    if clocks_ok:
        print(
            "  -> one clock across processes: a child's timestamp minus the parent's is a latency"
        )
    else:
        print("  -> the clocks do NOT agree across processes: start latencies below are unreliable")
    print()

    # 1. start latency
    starts = {method: measure_start(method, args.start_reps) for method in args.methods}
    print(
        "Start latency: start() -> first __run__ begins (Skprocess) vs Process.start() -> "
        "target begins (bare Process + Pipe)"
    )
    rows = []
    start_ok = {}
    for method, r in starts.items():
        sk, bare = statistics.median(r.sk), statistics.median(r.bare)
        ratio = sk / bare
        start_ok[method] = ratio <= START_TARGET
        rows.append(
            [
                method,
                ms(sk),
                ms(bare),
                f"{ratio:.2f}x",
                f"+{ms(sk - bare)}",
                ms(statistics.median(r.sk_returns)),
                ms(statistics.median(r.bare_returns)),
            ]
        )
    print_table(
        ["method", "Skprocess", "bare", "ratio", "overhead", "start() returns", "bare returns"],
        rows,
    )
    print("  ('returns': how long the call to start() itself blocks the caller)")
    for method in args.methods:
        r = starts[method]
        ratio = statistics.median(r.sk) / statistics.median(r.bare)
        print(
            f"target: start latency within {START_TARGET}x of the bare Process [{method}] -> "
            f"{verdict(start_ok[method])} ({ratio:.3f}x)"
        )
    print()

    # the default start method
    default_now, default_threaded = describe_default()
    print(
        f"Default start method here: {default_now!r} (get_start_method() = "
        f"{get_start_method()!r}); with another thread of the user's running: "
        f"{default_threaded!r}"
    )
    sk_by_method = {m: statistics.median(r.sk) for m, r in starts.items()}
    fastest = min(sk_by_method, key=sk_by_method.__getitem__)
    base = sk_by_method.get("fork", sk_by_method[fastest])
    print(
        "  Skprocess start latency by method: "
        + ", ".join(
            f"{m} {ms(v)} ({v / base:.1f}x fork)" if "fork" in sk_by_method else f"{m} {ms(v)}"
            for m, v in sk_by_method.items()
        )
    )
    print(
        f"  fastest measured: {fastest!r}; the default {default_now!r} "
        f"{'is' if default_now == fastest else 'is NOT'} the fastest method measured"
    )
    safe = {m: v for m, v in sk_by_method.items() if m != "fork"}
    if safe and default_threaded in safe:
        quickest_safe = min(safe, key=safe.__getitem__)
        print(
            f"  with other threads (fork could deadlock the child) the default is "
            f"{default_threaded!r}: the faster of the thread-safe methods measured is "
            f"{quickest_safe!r} (" + ", ".join(f"{m} {ms(v)}" for m, v in safe.items()) + ")"
        )
    print()

    # 2. round trips
    payloads: list[tuple[str, Any]] = [("int", 7), ("1 MB bytes", os.urandom(MB))]
    print(
        "tell/listen round trips per second (parent tell -> child listen -> child tell -> "
        "parent listen) vs a raw Pipe echo"
    )
    rows = []
    rt_ok: list[tuple[str, str, bool, float]] = []
    for method in args.methods:
        for label, obj in payloads:
            rates = measure_roundtrips(method, obj, args.rt_reps, args.batch_seconds)
            sk, raw = statistics.median(rates["Skprocess"]), statistics.median(rates["raw Pipe"])
            ratio = sk / raw
            rt_ok.append((method, label, ratio >= ROUNDTRIP_TARGET, ratio))
            rows.append(
                [
                    method,
                    label,
                    rate(sk),
                    rate(raw),
                    f"{ratio:.2f}x",
                    f"{1e6 / sk:.0f} us",
                    f"{1e6 / raw:.0f} us",
                ]
            )
    print_table(
        ["method", "payload", "Skprocess", "raw Pipe", "ratio", "Sk per trip", "raw per trip"], rows
    )
    for method, label, ok, ratio in rt_ok:
        print(
            f"target: tell/listen at least {ROUNDTRIP_TARGET}x of a raw Pipe [{method}, "
            f"{label}] -> {verdict(ok)} ({ratio:.3f}x)"
        )
    print()

    print(
        f"target: start latency within {START_TARGET}x of the bare Process -> "
        f"{verdict(all(start_ok.values()))}"
    )
    print(
        f"target: tell/listen at least {ROUNDTRIP_TARGET}x of a raw Pipe -> "
        f"{verdict(all(ok for _, _, ok, _ in rt_ok))}"
    )
    load = f"; load average now {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    print(f"(took {time.monotonic() - began:.0f} s{load})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
