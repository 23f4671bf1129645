"""Benchmark cerial against pickle, cloudpickle and dill.

Run ``.venv/bin/python benchmarks/bench_cerial.py [--quick] [--reps R]``. Prints:

1. a round-trip table: median time of one ``loads(dumps(x))`` and the serialized size
   per payload and serializer, with each one's ratio to pickle;
2. a coverage matrix: which entries of the test catalogue (``tests/cerial/catalogue.py``)
   each serializer round-trips in-process.

The machine this runs on is shared and noisy, so the serializers alternate inside every
repetition (pickle, cerial, cloudpickle, dill, pickle, ...), each repetition times a
batch of round trips lasting a few tens of milliseconds, and only medians are reported.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import math
import os
import pickle
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle
import dill

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "cerial"))

from _payloads import (  # noqa: E402
    Record,
    make_bytes,
    make_int_str_dict,
    make_nested,
    make_records,
)
from catalogue import CATALOGUE, Entry  # noqa: E402

from suitkaise import cerial  # noqa: E402

TARGET_RATIO = 1.10
BATCH_SECONDS = 0.03
CALIBRATION_SECONDS = 0.005
CELL_TIMEOUT = 10.0


@dataclass(frozen=True)
class Serializer:
    """A named pair of ``dumps``/``loads`` functions."""

    name: str
    dumps: Callable[[Any], bytes]
    loads: Callable[[bytes], Any]


SERIALIZERS = (
    Serializer("pickle", functools.partial(pickle.dumps, protocol=5), pickle.loads),
    Serializer("cerial", cerial.serialize, cerial.deserialize),
    Serializer("cloudpickle", functools.partial(cloudpickle.dumps, protocol=5), cloudpickle.loads),
    Serializer("dill", functools.partial(dill.dumps, protocol=5), dill.loads),
)


class MainRecord:
    """Same shape as :class:`_payloads.Record`, but defined in ``__main__`` (row e)."""

    def __init__(self, ident: int, name: str, score: float) -> None:
        self.ident = ident
        self.name = name
        self.score = score


@dataclass(frozen=True)
class Payload:
    """A benchmark input; ``plain`` payloads count towards the speed target."""

    label: str
    make: Callable[[], Any]
    plain: bool = True


PAYLOADS = (
    Payload("(a) dict 10,000 int->str", make_int_str_dict),
    Payload("(b) 1,000 objects (module class)", lambda: make_records(Record)),
    Payload("(c) 1 MB bytes", make_bytes),
    Payload("(d) 2,000 nested dicts/lists", make_nested),
    Payload("(e) 1,000 objects (__main__ class)*", lambda: make_records(MainRecord), plain=False),
)


@dataclass(frozen=True)
class Result:
    """Median seconds per round trip and serialized size, per serializer name."""

    seconds: dict[str, float]
    sizes: dict[str, int]


@dataclass(frozen=True)
class Cell:
    """The outcome of one catalogue entry through one serializer."""

    ok: bool
    reason: str = ""


# ------------------------------------------------------------------------------ timing


def time_batch(serializer: Serializer, obj: Any, count: int) -> float:
    """Seconds taken by ``count`` round trips of ``obj``, with the collector paused."""
    dumps, loads = serializer.dumps, serializer.loads
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(count):
            loads(dumps(obj))
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()


def batch_size(serializer: Serializer, obj: Any) -> int:
    """Warm up once, then pick how many round trips make a batch of ~BATCH_SECONDS."""
    time_batch(serializer, obj, 1)
    count = 1
    while (elapsed := time_batch(serializer, obj, count)) < CALIBRATION_SECONDS:
        count *= 2
    return max(1, math.ceil(BATCH_SECONDS * count / elapsed))


def measure(obj: Any, reps: int) -> Result:
    """Median round-trip time of every serializer, alternating them in each repetition."""
    counts = {s.name: batch_size(s, obj) for s in SERIALIZERS}
    samples: dict[str, list[float]] = {s.name: [] for s in SERIALIZERS}
    for _ in range(reps):
        for serializer in SERIALIZERS:
            count = counts[serializer.name]
            samples[serializer.name].append(time_batch(serializer, obj, count) / count)
    return Result(
        seconds={name: statistics.median(times) for name, times in samples.items()},
        sizes={s.name: len(s.dumps(obj)) for s in SERIALIZERS},
    )


# ------------------------------------------------------------------------------ coverage


def try_roundtrip(serializer: Serializer, entry: Entry) -> Cell:
    """Round-trip a fresh sample of ``entry``; an exception or a failed check is a miss."""
    original = entry.make()
    copies: list[Any] = []
    try:
        copies.append(serializer.loads(serializer.dumps(original)))
        if entry.check(original, copies[0]):
            return Cell(True)
        return Cell(False, "check failed: the copy is wrong")
    except Exception as error:
        return Cell(False, f"{type(error).__name__}: {error}")
    finally:
        for obj in (original, *copies):
            with contextlib.suppress(Exception):  # a wrong copy may not clean up
                entry.cleanup(obj)


def run_cell(serializer: Serializer, entry: Entry) -> Cell:
    """:func:`try_roundtrip` in a daemon thread; a miss if it takes over CELL_TIMEOUT."""
    outcome: list[Cell] = []

    def work() -> None:
        try:
            outcome.append(try_roundtrip(serializer, entry))
        except BaseException as error:  # make() failed, or something escaped Exception
            outcome.append(Cell(False, f"crashed: {type(error).__name__}: {error}"))

    worker = threading.Thread(target=work, name=f"{serializer.name}:{entry.name}", daemon=True)
    worker.start()
    worker.join(CELL_TIMEOUT)
    return outcome[0] if outcome else Cell(False, f"timed out after {CELL_TIMEOUT:.0f} s")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Mute warnings and finalizer errors while the matrix runs.

    Other serializers warn about what they cannot store, and some return copies that
    share an OS handle with the original (pipe connections), whose finalizers then
    report closing it twice. Both are counted as misses already.
    """
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _unraisable: None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
            gc.collect()
    finally:
        sys.unraisablehook = hook


def coverage() -> dict[Entry, dict[str, Cell]]:
    """Every catalogue entry through every serializer."""
    with quiet():
        return {entry: {s.name: run_cell(s, entry) for s in SERIALIZERS} for entry in CATALOGUE}


# ------------------------------------------------------------------------------ output


def format_seconds(seconds: float) -> str:
    """``seconds`` in µs below one millisecond, in ms above."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e3:.2f} ms"


def format_size(size: float) -> str:
    """A byte count with thousands separators."""
    return f"{size:,} B"


def ratio_cells(values: Mapping[str, float], fmt: Callable[[float], str]) -> list[str]:
    """One ``value ratio`` cell per serializer, the ratio taken to pickle's value."""
    base = values["pickle"]
    return [
        fmt(values[s.name]) + ("" if s.name == "pickle" else f" {values[s.name] / base:.2f}x")
        for s in SERIALIZERS
    ]


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print ``rows`` under ``header``, in left-aligned columns as wide as their content."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def cerial_ratio(result: Result) -> float:
    """cerial's median round-trip time over pickle's."""
    return result.seconds["cerial"] / result.seconds["pickle"]


def target_status(payload: Payload, result: Result) -> str:
    """Whether cerial meets the speed target on ``payload``, with the unrounded ratio."""
    if not payload.plain:
        return "(informational)"
    ratio = cerial_ratio(result)
    return f"{'meets' if ratio <= TARGET_RATIO else 'MISSES'} ({ratio:.3f}x)"


def print_roundtrip(results: dict[Payload, Result], reps: int) -> None:
    """Print the time table, the size table, the target line and the footnote."""
    names = [s.name for s in SERIALIZERS]
    print(f"Round trip: median time per loads(dumps(x)), {reps} alternating repetitions")
    print_table(
        ["payload", *names, "target"],
        [
            [p.label, *ratio_cells(r.seconds, format_seconds), target_status(p, r)]
            for p, r in results.items()
        ],
    )
    print()
    print("Serialized size")
    print_table(
        ["payload", *names],
        [[p.label, *ratio_cells(r.sizes, format_size)] for p, r in results.items()],
    )
    print()
    met = all(cerial_ratio(r) <= TARGET_RATIO for p, r in results.items() if p.plain)
    print(
        f"target: cerial within {TARGET_RATIO:.2f}x of pickle on every plain-data payload (a-d)"
        f" -> {'met' if met else 'NOT met'}"
    )
    print(
        "* (e) MainRecord is defined in __main__: cerial, cloudpickle and dill send the class\n"
        "  by value (its definition travels in every payload); pickle stores only the reference\n"
        "  __main__.MainRecord, which a process without this script cannot load. Informational,\n"
        "  not counted in the target."
    )


def print_coverage(matrix: dict[Entry, dict[str, Cell]]) -> None:
    """Print the ✓/✗ matrix, per-serializer totals, the target line and cerial's misses."""
    names = [s.name for s in SERIALIZERS]
    total = len(matrix)
    passed = {n: sum(row[n].ok for row in matrix.values()) for n in names}
    rows = [
        [entry.family, entry.name, *("✓" if row[n].ok else "✗" for n in names)]
        for entry, row in matrix.items()
    ]
    rows.append(["total", "", *(f"{passed[n]}/{total}" for n in names)])
    print(f"Coverage: in-process round trip of the {total} entries of tests/cerial/catalogue.py")
    print_table(["family", "entry", *names], rows)
    print()
    verdict = "met" if passed["cerial"] == total else "NOT met"
    print(f"target: 100% of the matrix for cerial -> {verdict} ({passed['cerial']}/{total})")
    for entry, row in matrix.items():
        if not row["cerial"].ok:
            print(f"  cerial misses {entry.name}: {row['cerial'].reason}")


# ------------------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options: ``--quick`` and ``--reps``."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="5 repetitions instead of 15")
    parser.add_argument("--reps", type=int, help="number of repetitions (overrides --quick)")
    args = parser.parse_args(argv)
    if args.reps is None:
        args.reps = 5 if args.quick else 15
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run the round-trip benchmark and the coverage matrix, printing both."""
    args = parse_args(argv)
    print(
        f"Python {sys.version.split()[0]}, cloudpickle {cloudpickle.__version__},"
        f" dill {dill.__version__}, {os.cpu_count()} CPUs"
    )
    print()
    results = {payload: measure(payload.make(), args.reps) for payload in PAYLOADS}
    print_roundtrip(results, args.reps)
    print()
    print_coverage(coverage())


if __name__ == "__main__":
    main()
