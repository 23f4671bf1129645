"""The multi-machine set-up on loopback: ``dask scheduler`` and two ``dask worker``
processes started by the test, a pool bound to the scheduler's address, and nothing
left running afterwards (``cli_cluster`` checks that every process it started ended)."""

from __future__ import annotations

import time

import pytest
from _support import TIMEOUT
from cluster_probes import (
    cli_cluster,
    make_tls_files,
    processes_in_sessions,
    security,
    start_worker_without_suitkaise,
    wait_for,
)
from distributed import Client

from suitkaise.processing import BrokenPoolError, Pool, RemoteTraceback, Skprocess, WorkerDiedError


class Squares(Skprocess):
    def __init__(self, n):
        self.n = n
        self.total = 0
        self.process_config.runs = 2

    def __run__(self):
        self.total += self.n * self.n

    def __result__(self):
        return self.total


def test_a_pool_on_a_scheduler_address(tmp_path):
    with cli_cluster(tmp_path) as cluster:
        sessions = cluster.sessions
        with Pool(cluster=cluster.address) as pool:
            assert pool.workers == 2
            offset = 100
            assert pool.map(lambda x: x + offset, range(1000)) == [x + 100 for x in range(1000)]
            assert sorted(pool.unordered_imap(str, range(20))) == sorted(map(str, range(20)))
            assert pool.star().map(divmod, [(7, 2), (9, 4)]) == [(3, 1), (2, 1)]
            assert pool.map(Squares, [1, 2, 3]) == [2, 8, 18]
            with pytest.raises(KeyError) as info:
                pool.map(lambda k: {}[k], ["missing"])
            assert isinstance(info.value.__cause__, RemoteTraceback)
        assert pool.state == "closed"
    assert processes_in_sessions(sessions) == []


def test_losing_the_scheduler_breaks_the_pool_without_a_hang(tmp_path):
    with cli_cluster(tmp_path) as cluster:
        pool = Pool(cluster=cluster.address)
        try:
            marker = tmp_path / "started"

            def slow(x):
                marker.touch()
                time.sleep(30)
                return x

            future = pool.map.background()(slow, range(4), chunksize=1)
            wait_for(marker.exists, what="a task to start")
            cluster.kill_scheduler()
            began = time.monotonic()
            with pytest.raises(BrokenPoolError, match="lost the Dask scheduler"):
                future.result(timeout=TIMEOUT)
            assert time.monotonic() - began < 15
            assert pool.state == "broken"
            with pytest.raises(BrokenPoolError):
                pool.map(abs, [1])
        finally:
            pool.terminate()


def test_a_cluster_secured_with_tls(tmp_path):
    """The README's recipe: scheduler and workers with --tls-* options, a Client with a
    Security object, passed to the Pool."""
    tls = make_tls_files(tmp_path)
    with cli_cluster(tmp_path, tls=tls) as cluster:
        assert cluster.address.startswith("tls://")
        with Client(cluster.address, security=security(tls), timeout=TIMEOUT,
                    set_as_default=False) as client:
            with Pool(cluster=client) as pool:
                secret = "travels encrypted"
                assert pool.map(lambda i: secret[i], range(3)) == ["t", "r", "a"]
            assert client.status == "running"  # the pool leaves a given Client open


def test_a_worker_without_suitkaise_is_a_clear_error(tmp_path):
    # Dask cannot even unpack such a worker's tasks: the worker process dies on each one
    with cli_cluster(tmp_path, workers=0, allowed_failures=0) as cluster:
        start_worker_without_suitkaise(cluster, tmp_path)
        with Pool(cluster=cluster.address) as pool, pytest.raises(WorkerDiedError) as info:
            pool.map.timeout(TIMEOUT)(abs, [-1])
        assert "is suitkaise installed on every worker?" in str(info.value)
