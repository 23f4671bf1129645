"""What a cluster worker runs: one batch of tasks, from cerial bytes to reply buffers.

A cluster backend (:mod:`._dask`) sends each batch as one remote task::

    run_batch(token, fn bytes, args bytes, flags, start)
        load fn (cached per token)  -> deserialize the batch's arguments
        run_chunk (the local workers' loop: star, Skprocess classes, errors)
        -> [reply head, meta, raw results]  (the local workers' reply, as a list)

The function and its arguments cross the cluster as cerial bytes, so whatever cerial
takes (lambdas, closures, classes defined in ``__main__``, locks...) runs on a remote
worker that never saw its source; the cluster's own serializer only moves ``bytes``.
This module is what the remote workers import (with the ``suitkaise.processing``
package around it, which loads its names lazily).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from .... import cerial
from .. import _protocol as proto
from .._worker import FN_CACHE, _load, _LoadFailure, _reply, run_chunk

__all__ = ("run_batch",)

_fns: OrderedDict[str, Any] = OrderedDict()
_fns_lock = threading.Lock()


def _function(token: str, fn_bytes: bytes) -> Any:
    """The task function sent as *fn_bytes*, loaded once per worker process."""
    with _fns_lock:
        fn = _fns.get(token)
        if fn is not None:
            _fns.move_to_end(token)
            return fn
    fn = _load(fn_bytes)
    with _fns_lock:
        _fns[token] = fn
        if len(_fns) > FN_CACHE:
            _fns.popitem(last=False)
    return fn


def run_batch(token: str, fn_bytes: bytes, args: bytes, flags: int, start: int) -> list[bytes]:
    """Run one batch of tasks on this worker; return the reply's buffers.

    *token* names the task function (the same for every batch of a call), *fn_bytes*
    is the function as cerial bytes, *args* the batch's arguments as cerial bytes,
    *flags* the ``_protocol`` task flags and *start* the input index of the first task.
    """
    began = time.perf_counter()
    fn = _function(token, fn_bytes)
    if isinstance(fn, _LoadFailure):
        return _reply(0, [], fn.error, fn.tb, began)
    try:
        items = cerial.deserialize(args)
    except BaseException as error:
        error.add_note("while loading a batch of task arguments on a cluster worker")
        return _reply(0, [], error, None, began)
    out, exc, tb = run_chunk(fn, items, flags & ~proto.FLAG_TRACK, start, [-1])
    return _reply(0, out, exc, tb, began)
