"""Real Dask clusters for the cluster-pool tests, started and ended by the tests.

- ``dask_cluster``: a ``distributed.LocalCluster`` with two worker processes (one
  thread each), for the whole session. Its scheduler re-runs a task whose worker died
  on one more worker before it fails it (``allowed-failures: 1``; Dask's default, 3,
  would have a crashing task take four workers down before the pool hears of it).
- ``cli_cluster`` (in ``cluster_probes``): ``dask scheduler`` and two ``dask worker``
  processes, the way several machines are set up, on loopback.
- ``pool_kind``: runs a test once with a local pool and once with a cluster pool.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import dask
import pytest
from _support import TIMEOUT
from cluster_probes import alive, wait_for
from distributed import Client, LocalCluster

from suitkaise.processing import Pool

__all__ = ("dask_cluster", "make_pool", "pool_kind")


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[LocalCluster]:
    """Two Dask worker processes on this machine (one thread each)."""
    # The scheduler runs in this process and reads its connect timeout when it
    # connects: a result lost with a worker that died just after making it is given up
    # (and redone) after 5 s instead of Dask's default 30 s.
    settings = dask.config.set({"distributed.scheduler.allowed-failures": 1,
                                "distributed.comm.timeouts.connect": "5s"})
    try:
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            # any free port: None still means Dask's fixed 8787, which another cluster
            # on the machine may hold (Dask then warns, an error here)
            dashboard_address="127.0.0.1:0",
            host="127.0.0.1",
        )
        try:
            yield cluster
        finally:
            with Client(cluster, set_as_default=False) as client:
                pids = set(client.run(os.getpid, wait=True).values())
            cluster.close(timeout=TIMEOUT)
            wait_for(lambda: not any(alive(pid) for pid in pids),
                     what="the LocalCluster's worker processes to end")
    finally:
        settings.__exit__(None, None, None)


@pytest.fixture(params=["local", "cluster"])
def pool_kind(request: pytest.FixtureRequest) -> str:
    """The same test against the local pool and the cluster pool."""
    return str(request.param)


@pytest.fixture
def make_pool(pool_kind: str, request: pytest.FixtureRequest) -> Iterator[Callable[..., Pool]]:
    """``make_pool(**options)``: a 2-worker pool of the kind under test, ended afterwards."""
    pools: list[Pool] = []

    def make(**options: Any) -> Pool:
        if pool_kind == "cluster":
            options["cluster"] = request.getfixturevalue("dask_cluster")
        pool = Pool(2, **options)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.terminate()
