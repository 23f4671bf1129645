"""How many tasks go into one chunk: measured, not guessed.

Workers report, for every chunk, how many tasks it held, how long the worker spent
on it (loading the arguments, running, serializing the results) and how many bytes
of results it sent. :class:`ChunkSizer` keeps decayed sums of these per task
function, so the pool learns a function's cost in the first call and reuses it in
the next ones. The size it suggests makes a chunk take about ``TARGET_SECONDS`` in
the worker (amortising the per-message cost over many tiny tasks) and move at most about
``TARGET_BYTES`` of arguments and results (large data travels in small chunks, so
memory stays low, the first results come back early, and a call's window of work in
flight stays a few megabytes).

Three caps apply on top, in :meth:`Job.take <._job.Job.take>`:

- ramp: a call starts with small chunks (1 task when nothing is known yet) and lets
  them grow by ``RAMP`` per reply, so a stale estimate cannot hand one worker a huge
  first chunk;
- guided: with an input of known length, a chunk holds at most
  ``remaining / (2 * workers)`` tasks, so the last chunks are small and the workers
  finish together (but not below ``1 / GUIDED_FLOOR`` of the suggested size: a chunk
  of a few microseconds of work costs more in messages than it saves in balance);
- a ``chunksize=`` argument replaces all of this with a fixed size.
"""

from __future__ import annotations

from typing import Any

from ._recent import Recent

__all__ = ("GUIDED_FLOOR", "MAX_CHUNK", "RAMP", "TARGET_BYTES", "TARGET_SECONDS", "ChunkSizer",
           "SizerCache")

#: Seconds of worker time one chunk should take.
TARGET_SECONDS = 0.008
#: Bytes of arguments and results one chunk should move at most.
TARGET_BYTES = 1 << 20
#: The largest chunk, in tasks.
MAX_CHUNK = 1 << 16
#: The guided cap stops shrinking chunks at suggest() / GUIDED_FLOOR tasks.
GUIDED_FLOOR = 32
#: How much larger a call's chunks may get with each reply.
RAMP = 16
# Weight of the past in the decayed sums (per reply).
_DECAY = 0.7


class ChunkSizer:
    """Decayed per-task time and result size of one task function.

    Example::

        >>> s = ChunkSizer()
        >>> s.suggest()
        1
        >>> s.record(1000, 0.001, 8000)   # 1 us and 8 bytes per task
        >>> s.suggest()
        8000
    """

    __slots__ = ("items", "largest", "nbytes", "seconds", "target")

    def __init__(self, target_seconds: float = TARGET_SECONDS, largest: int = MAX_CHUNK) -> None:
        #: Seconds of worker time one chunk should take, and the most tasks in one
        #: (a cluster, where each chunk costs milliseconds of scheduling, asks for more).
        self.target = target_seconds
        self.largest = largest
        self.items = 0.0
        self.seconds = 0.0
        self.nbytes = 0.0

    @property
    def known(self) -> bool:
        """True once at least one chunk has been measured."""
        return self.items > 0

    def record(self, n: int, seconds: float, nbytes: int) -> None:
        """Add one chunk of *n* tasks that took *seconds* and moved *nbytes*."""
        # A chunk ages the past in proportion to its size: the many small chunks at the
        # end of a call (mostly fixed per-chunk cost) must not erase what the large
        # ones measured.
        decay = _DECAY ** min(1.0, n / self.suggest()) if self.items > 0 else 0.0
        self.items = self.items * decay + n
        self.seconds = self.seconds * decay + seconds
        self.nbytes = self.nbytes * decay + nbytes

    def suggest(self) -> int:
        """The chunk size (in tasks) that meets both targets; 1 while nothing is known."""
        items = self.items
        if items <= 0:
            return 1
        size = float(self.largest)
        if self.seconds > 0:
            size = min(size, self.target * items / self.seconds)
        if self.nbytes > 0:
            size = min(size, TARGET_BYTES * items / self.nbytes)
        return max(1, int(size))


class SizerCache(Recent[Any, ChunkSizer]):
    """The :class:`ChunkSizer` of each task (function bytes and flags), shared by the
    calls that run it; the *limit* most recently used are kept."""

    def __init__(self, limit: int, target_seconds: float = TARGET_SECONDS,
                 largest: int = MAX_CHUNK) -> None:
        super().__init__(limit, lambda key: ChunkSizer(target_seconds, largest))
