"""Payloads for ``bench_cerial.py``.

This module is importable (the script puts ``benchmarks/`` on ``sys.path``), so pickle
can store :class:`Record` by reference, the way it stores any class that lives in a
real module.
"""

from __future__ import annotations

import random
from typing import Any

__all__ = (
    "Record",
    "make_bytes",
    "make_int_str_dict",
    "make_nested",
    "make_records",
)


class Record:
    """A small object with three attributes; equal when its attributes are equal."""

    def __init__(self, ident: int, name: str, score: float) -> None:
        self.ident = ident
        self.name = name
        self.score = score

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    __hash__ = None  # type: ignore[assignment]


def make_int_str_dict(size: int = 10_000) -> dict[int, str]:
    """(a) ``size`` int keys mapped to short strings."""
    return {i: f"value-{i}" for i in range(size)}


def make_records(cls: type = Record, count: int = 1_000) -> list[Any]:
    """(b, e) ``count`` instances of ``cls``, built as ``cls(ident, name, score)``."""
    return [cls(i, f"name-{i}", i * 0.5) for i in range(count)]


def make_bytes(size: int = 1 << 20) -> bytes:
    """(c) ``size`` pseudo-random bytes (seeded, so every run sends the same data)."""
    return random.Random(0).randbytes(size)


def make_nested(count: int = 2_000) -> list[dict[str, Any]]:
    """(d) ``count`` small dicts, each holding small lists and a nested dict."""
    return [
        {"id": i, "tags": ["a", "b", str(i)], "pos": [i, i + 1], "meta": {"ok": i % 2 == 0}}
        for i in range(count)
    ]
