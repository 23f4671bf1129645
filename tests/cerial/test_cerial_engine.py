"""The engine's per-thread picklers: kept while they help, dropped when they cost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from _support import TIMEOUT

from suitkaise import cerial
from suitkaise.cerial import _session


class _Refuses:
    def __reduce__(self) -> Any:
        raise TypeError("this object refuses to be stored")


def _in_a_new_thread(work: Callable[[], Any]) -> Any:
    """``work()`` in a thread of its own, so it starts from fresh picklers."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(("ok", work()))
        except BaseException as error:  # re-raised below, in the test's thread
            outcome.append(("error", error))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    kind, value = outcome[0]
    if kind == "error":
        raise value
    return value


def test_large_bytes_keep_the_picklers():
    # Raw data goes around the pickler's buffer and memo: nothing to shed.
    def work() -> bool:
        context = _session.local.context
        cerial.serialize(bytes(1 << 20))
        kept = context.picklers
        cerial.serialize(bytes(1 << 20))
        cerial.serialize(1)
        return kept is not None and context.picklers is kept

    assert _in_a_new_thread(work)


def test_a_small_dump_after_a_large_structure_drops_the_picklers():
    # Their memo table is cleared whole at every dump: a tiny dump would pay for it.
    def work() -> tuple[bool, bool]:
        context = _session.local.context
        cerial.serialize({i: str(i) for i in range(10_000)})
        kept_after_large = context.picklers is not None
        cerial.serialize(1)
        return kept_after_large, context.picklers is None

    assert _in_a_new_thread(work) == (True, True)


def test_an_output_over_a_megabyte_of_structure_releases_the_picklers():
    def work() -> bool:
        cerial.serialize(list(range(300_000)))
        return _session.local.context.picklers is None

    assert _in_a_new_thread(work)


def test_the_memo_is_closed_after_every_call():
    def work() -> tuple[Any, Any]:
        cerial.serialize(i for i in range(3))
        after_ok = _session.local.context.memo
        with pytest.raises(cerial.SerializationError, match="refuses"):
            cerial.serialize([_Refuses()])
        return after_ok, _session.local.context.memo

    assert _in_a_new_thread(work) == (None, None)
