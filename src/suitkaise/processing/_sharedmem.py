"""A few numbers shared with one child process, without ctypes or multiprocessing's heap.

::

    fork                  anonymous shared mapping, inherited by the child
    spawn / forkserver    Linux memfd: its descriptor travels with the process
                          arguments (DupFd) and the child maps it again
    elsewhere             multiprocessing RawArray

The parent and the child index :attr:`SharedArray.view` (a ``memoryview`` cast to the
typecode, or the RawArray) like a list. A mapping costs a few microseconds to make,
against tens for a RawArray (a lock and the shared heap's bookkeeping), and a spawned
child maps it with :mod:`mmap` alone (a RawArray would have it import ctypes first).
"""

from __future__ import annotations

import mmap
import os
import struct
from typing import Any

__all__ = ("SharedArray",)


class SharedArray:
    """*size* numbers of *typecode* (``"d"`` or ``"q"``), zeroed, shared with one child
    started with *ctx* (a multiprocessing context)."""

    def __init__(self, ctx: Any, typecode: str, size: int) -> None:
        self._fd = -1
        self._mapping: mmap.mmap | None = None
        self._typecode = typecode
        self._nbytes = struct.calcsize(typecode) * size
        if ctx.get_start_method() == "fork":
            self._mapping = mmap.mmap(-1, self._nbytes)
        elif hasattr(os, "memfd_create"):
            self._map_memfd()
        if self._mapping is None:
            self.view: Any = ctx.RawArray(typecode, size)
        else:
            self.view = memoryview(self._mapping).cast(typecode)  # type: ignore[call-overload]

    def _map_memfd(self) -> None:
        """A memfd and its mapping, or neither where the kernel refuses (no memfd in
        an old kernel or a sandbox: the RawArray serves then)."""
        try:
            self._fd = os.memfd_create("suitkaise-shared", os.MFD_CLOEXEC)
        except OSError:
            return
        try:
            os.ftruncate(self._fd, self._nbytes)
            self._mapping = mmap.mmap(self._fd, self._nbytes)
        except BaseException as exc:
            os.close(self._fd)
            self._fd = -1
            if not isinstance(exc, OSError):
                raise

    def for_child(self) -> Any:
        """What to pass to the child process: it receives an array indexed like :attr:`view`."""
        if self._fd >= 0:
            return _MemfdArray(self._fd, self._typecode, self._nbytes)
        return self.view

    def started(self) -> None:
        """The child has been started (and has its own copy of the memfd, if any): close
        the descriptor. The mapping stays (and holds a descriptor of its own until it is
        closed or freed)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def close(self) -> None:
        """Unmap (the view stops working) and close the descriptor."""
        self.started()
        if self._mapping is not None:
            self.view.release()
            self._mapping.close()
            self._mapping = None


class _MemfdArray:
    """A memfd on its way to a spawned or forkserver child, mapped again when it arrives."""

    def __init__(self, fd: int, typecode: str, nbytes: int) -> None:
        self.fd = fd
        self.typecode = typecode
        self.nbytes = nbytes

    def __reduce__(self) -> tuple[Any, ...]:
        from multiprocessing.reduction import DupFd

        return (_map_array, (DupFd(self.fd), self.typecode, self.nbytes))


def _map_array(dup: Any, typecode: str, nbytes: int) -> memoryview:
    fd = dup.detach()
    try:
        return memoryview(mmap.mmap(fd, nbytes)).cast(typecode)  # type: ignore[call-overload]
    finally:
        os.close(fd)
