"""``multiprocessing`` pipe ends: placeholders that explain why they cannot be rebuilt.

A ``Connection`` (an end of a ``Pipe``) is an OS handle that only the processes which
inherited it can use, so it becomes a :class:`PipeReconnector`: ``reconnect_all``
leaves it in place and its ``reconnect()`` explains why it cannot be rebuilt (hand pipe
ends to a child when starting it, or use a Share).
"""

from __future__ import annotations

import multiprocessing.connection
from typing import Any

from .._registry import register
from ._base import ReconnectError, Reconnector

__all__ = ("PipeReconnector",)


class PipeReconnector(Reconnector):
    """Placeholder for an end of a ``multiprocessing.Pipe``; it can never be rebuilt."""

    type_key = "multiprocessing.connection.Connection"
    reconnectable = False

    def describe(self) -> str:
        ends = [name for name in ("readable", "writable") if self.metadata.get(name)]
        return "/".join(ends) or "closed"

    def _connect(self, password: str | None) -> Any:
        raise ReconnectError(
            self._failure_message(
                "an end of a multiprocessing Pipe is an OS handle that only the processes "
                "that inherited it can use; pass the Pipe to the child when starting it, "
                "or share data through a Share or a queue instead"
            )
        )


def _pipe_reduce(conn: Any) -> tuple[Any, ...]:
    metadata = {"readable": conn.readable, "writable": conn.writable, "closed": conn.closed}
    return PipeReconnector, (metadata,), {"note": "a pipe end cannot be rebuilt"}


for _connection_type in (
    multiprocessing.connection.Connection,
    getattr(multiprocessing.connection, "PipeConnection", None),  # Windows
):
    if _connection_type is not None:
        register(_connection_type, _pipe_reduce, subclasses=True)
