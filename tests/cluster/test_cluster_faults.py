"""Faults on a cluster pool: dead workers, stuck work, unreachable schedulers, misuse."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest
from _support import TIMEOUT
from cluster_probes import alive, wait_for
from distributed import Client

from suitkaise.processing import BrokenPoolError, Pool, PoolTimeoutError, WorkerDiedError


def test_a_worker_that_dies_fails_its_tasks_with_a_clear_error(dask_cluster):
    def die_on_zero(x):
        if x == 0:
            os._exit(3)
        return x

    with Pool(cluster=dask_cluster) as pool:
        began = time.monotonic()
        with pytest.raises(WorkerDiedError) as info:
            pool.map(die_on_zero, range(10), chunksize=1)
        elapsed = time.monotonic() - began
        error = info.value
        assert error.tasks == range(0, 1)
        assert error.address and error.address.startswith("tcp://127.0.0.1")
        assert "died while running" in str(error) and "map()" in str(error)
        assert "on 2 workers" in str(error)  # Dask's own re-run came first
        assert elapsed < 15, elapsed
        # the pool goes on: the workers' nannies replaced the dead processes
        assert pool.map.timeout(TIMEOUT)(abs, range(-5, 5)) == [5, 4, 3, 2, 1, 0, 1, 2, 3, 4]


def test_a_worker_killed_from_outside_mid_batch_is_run_again(dask_cluster, tmp_path):
    pidfile = tmp_path / "pid"

    def slow_the_first_time(x):
        if x == 0 and not pidfile.exists():
            pidfile.write_text(str(os.getpid()))
            time.sleep(60)
        return x

    with Pool(cluster=dask_cluster) as pool:
        future = pool.map.background()(slow_the_first_time, range(4), chunksize=1)
        wait_for(lambda: pidfile.exists() and pidfile.read_text(), what="the task to start")
        os.kill(int(pidfile.read_text()), signal.SIGKILL)
        # Dask re-runs the batch of a dead worker elsewhere (up to allowed-failures)
        assert future.result(timeout=TIMEOUT) == [0, 1, 2, 3]


def test_crash_retries_run_the_tasks_again(dask_cluster, tmp_path):
    deaths = tmp_path / "deaths"
    deaths.write_text("0")

    def dies_twice(x):
        # Dask itself re-runs a task whose worker died (allowed-failures: 1 here);
        # the pool's crash_retries run it once more after that.
        if x == 3 and int(deaths.read_text()) < 2:
            deaths.write_text(str(int(deaths.read_text()) + 1))
            os._exit(3)
        return x * 10

    with Pool(cluster=dask_cluster, crash_retries=1) as pool:
        results = pool.map.timeout(TIMEOUT)(dies_twice, range(6), chunksize=1)
    assert results == [0, 10, 20, 30, 40, 50]
    assert deaths.read_text() == "2"


def test_a_timeout_stops_the_stuck_work(dask_cluster, tmp_path):
    pidfile = tmp_path / "pid"

    def stuck(x):
        pidfile.write_text(str(os.getpid()))
        time.sleep(120)

    with Pool(cluster=dask_cluster) as pool:
        with pytest.raises(PoolTimeoutError):
            pool.map.timeout(2)(stuck, [1])
        pid = int(pidfile.read_text())
        wait_for(lambda: not alive(pid), what="the worker running the stuck task to be restarted")
        assert pool.map.timeout(TIMEOUT)(abs, [-7]) == [7]


def test_an_unreachable_scheduler_is_a_clear_error_at_construction():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here
    began = time.monotonic()
    with pytest.raises(ConnectionError, match=f"cannot reach the Dask scheduler at 'tcp://127.0.0.1:{port}'"):
        Pool(cluster=f"tcp://127.0.0.1:{port}")
    assert time.monotonic() - began < 20


def test_wrong_arguments_are_refused(dask_cluster):
    with pytest.raises(TypeError, match="cluster must be"):
        Pool(cluster=42)
    with pytest.raises(ValueError, match="start_method"):
        Pool(cluster=dask_cluster, start_method="fork")
    with pytest.raises(ValueError, match="max_tasks_per_worker"):
        Pool(cluster=dask_cluster, max_tasks_per_worker=10)


def test_workers_defaults_to_the_cluster_threads(dask_cluster):
    with Pool(cluster=dask_cluster) as pool:
        assert pool.workers == 2
        assert pool.worker_pids == []
    with Pool(1, cluster=dask_cluster) as pool:
        assert pool.workers == 1
        assert pool.map(abs, [-1, -2, -3]) == [1, 2, 3]


def test_a_client_closed_under_the_pool_breaks_it_cleanly(dask_cluster):
    client = Client(dask_cluster, set_as_default=False)
    pool = Pool(cluster=client)
    assert pool.map(abs, [-1]) == [1]
    client.close()
    with pytest.raises(BrokenPoolError, match="cannot send work"):
        pool.map(abs, [-2])
    assert pool.state == "broken"
    pool.close()
    assert pool.join(TIMEOUT)
    with pytest.raises(ValueError, match="closed"):
        Pool(cluster=client)


def test_a_pool_made_from_an_address_closes_its_own_client(dask_cluster):
    pool = Pool(cluster=dask_cluster.scheduler_address)
    client = pool._backend._client
    assert pool.map(abs, [-3]) == [3]
    pool.close()
    assert pool.join(TIMEOUT)
    assert client.status == "closed"
