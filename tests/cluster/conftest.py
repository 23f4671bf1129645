"""Real Dask clusters for the cluster-pool tests, started and ended by the tests.

- ``dask_cluster``: a ``distributed.LocalCluster`` with two worker processes (one
  thread each), for the whole session. Its scheduler allows no re-runs of a task whose
  worker died (``allowed-failures: 0``), so a crash reaches the pool at once.
- ``cli_cluster`` (in ``cluster_probes``): ``dask scheduler`` and two ``dask worker``
  processes, the way several machines are set up, on loopback.
- ``pool_kind``: runs a test once with a local pool and once with a cluster pool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import dask
import pytest
from _support import TIMEOUT
from distributed import LocalCluster

from suitkaise.processing import Pool

__all__ = ("dask_cluster", "make_pool", "pool_kind")


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[LocalCluster]:
    """Two Dask worker processes on this machine (one thread each)."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        )
    try:
        yield cluster
    finally:
        cluster.close(timeout=TIMEOUT)


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
