"""SharedArray: numbers a parent and its child both see, under every start method."""

from __future__ import annotations

import errno
import multiprocessing
import os

import pytest
from _support import START_METHODS, TIMEOUT

from suitkaise.processing._sharedmem import SharedArray


def _add_one(array, index: int) -> None:
    array[index] = array[index] + 1
    array[0] = 42


def _child_adds_one(ctx, shared: SharedArray, index: int) -> None:
    """Start a child of *ctx* that runs _add_one on *shared*; wait for it."""
    process = ctx.Process(target=_add_one, args=(shared.for_child(), index))
    process.start()
    shared.started()
    process.join(TIMEOUT)
    assert process.exitcode == 0


@pytest.mark.parametrize("method", START_METHODS)
@pytest.mark.parametrize("typecode", ["d", "q"])
def test_a_child_writes_what_the_parent_reads(method: str, typecode: str) -> None:
    ctx = multiprocessing.get_context(method)
    shared = SharedArray(ctx, typecode, 4)
    try:
        assert list(shared.view) == [0, 0, 0, 0]  # zeroed
        shared.view[3] = 7
        _child_adds_one(ctx, shared, 3)
        assert list(shared.view) == [42, 0, 0, 8]
    finally:
        shared.close()


def _open_descriptors() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
@pytest.mark.parametrize("method", START_METHODS)
def test_no_descriptor_is_left_open(method: str) -> None:
    ctx = multiprocessing.get_context(method)
    before = _open_descriptors()
    shared = SharedArray(ctx, "q", 1)
    shared.started()
    shared.view[0] = 5  # the mapping outlives the memfd's descriptor
    assert shared.view[0] == 5
    shared.close()
    shared.close()  # twice is fine
    assert _open_descriptors() == before


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_without_memfd_a_rawarray_serves(method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> int:
        raise OSError(errno.ENOSYS, "memfd_create refused")

    monkeypatch.setattr(os, "memfd_create", refuse, raising=False)
    ctx = multiprocessing.get_context(method)
    shared = SharedArray(ctx, "d", 4)
    try:
        assert not isinstance(shared.view, memoryview)  # the RawArray
        _child_adds_one(ctx, shared, 3)
        assert list(shared.view) == [42, 0, 0, 1]
    finally:
        shared.close()
