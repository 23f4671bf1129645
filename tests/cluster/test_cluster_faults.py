"""Faults on a cluster pool: dead workers, stuck work, unreachable schedulers, misuse."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest
from _support import TIMEOUT
from cluster_probes import alive, wait_for

from suitkaise.processing import Pool, PoolTimeoutError, WorkerDiedError


def test_a_worker_that_dies_fails_its_tasks_with_a_clear_error(dask_cluster):
    def die_on_five(x):
        if x == 5:
            os._exit(3)
        return x

    with Pool(cluster=dask_cluster) as pool:
        began = time.monotonic()
        with pytest.raises(WorkerDiedError) as info:
            pool.map(die_on_five, range(10), chunksize=1)
        elapsed = time.monotonic() - began
        error = info.value
        assert 5 in error.tasks
        assert error.address and error.address.startswith("tcp://127.0.0.1")
        assert "died while running" in str(error) and "map()" in str(error)
        assert elapsed < 5, elapsed
        # the other tasks run, and the pool goes on (the nanny replaced the worker)
        got = []
        with pytest.raises(WorkerDiedError):
            for value in pool.imap(die_on_five, range(10), chunksize=1):
                got.append(value)
        assert got == [0, 1, 2, 3, 4]
        assert pool.map.timeout(TIMEOUT)(abs, range(-5, 5)) == [5, 4, 3, 2, 1, 0, 1, 2, 3, 4]


def test_a_worker_killed_from_outside_mid_batch(dask_cluster, tmp_path):
    pidfile = tmp_path / "pid"

    def slow(x):
        if x == 0:
            pidfile.write_text(str(os.getpid()))
            time.sleep(60)
        return x

    with Pool(cluster=dask_cluster) as pool:
        future = pool.map.background()(slow, range(4), chunksize=1)
        wait_for(lambda: pidfile.exists() and pidfile.read_text(), what="the task to start")
        os.kill(int(pidfile.read_text()), signal.SIGKILL)
        with pytest.raises(WorkerDiedError) as info:
            future.result(timeout=TIMEOUT)
        assert 0 in info.value.tasks


def test_crash_retries_run_the_tasks_again(dask_cluster, tmp_path):
    marker = tmp_path / "died-once"

    def die_once(x):
        if x == 3 and not marker.exists():
            marker.touch()
            os._exit(3)
        return x * 10

    with Pool(cluster=dask_cluster, crash_retries=1) as pool:
        assert pool.map.timeout(TIMEOUT)(die_once, range(6), chunksize=1) == [0, 10, 20, 30, 40, 50]
    assert marker.exists()


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
