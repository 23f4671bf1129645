"""A Dask cluster the way several machines run one: ``dask scheduler`` and
``dask worker`` processes, started and ended here (on loopback).

Each process starts in a session of its own, so the processes it starts (a worker's
nanny starts the worker process) can be found and counted afterwards: nothing may be
left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from _support import TIMEOUT
from distributed import Client
from distributed.security import Security

__all__ = ("CliCluster", "alive", "cli_cluster", "make_tls_files", "processes_in_sessions",
           "security", "start_worker_without_suitkaise", "wait_for")


def wait_for(condition, timeout: float = TIMEOUT, what: str = "condition") -> None:
    """Poll *condition* until it is true; AssertionError after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def _dask_command(*args: str) -> list[str]:
    dask = shutil.which("dask", path=os.path.dirname(sys.executable))
    if dask is not None:
        return [dask, *args]
    module = f"distributed.cli.dask_{args[0]}"
    return [sys.executable, "-m", module, *args[1:]]


def processes_in_sessions(sessions: set[int]) -> list[int]:
    """The pids of the live (not zombie) processes whose session id is in *sessions*."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) in sessions:
            found.append(int(entry.name))
    return found


def make_tls_files(folder: Path) -> dict[str, str]:
    """A test CA and one certificate it signed for 127.0.0.1 (made with openssl):
    ``{"ca": ..., "cert": ..., "key": ...}`` paths, as Dask's ``--tls-*`` options take."""
    files = {"ca": folder / "ca.pem", "ca_key": folder / "ca.key", "cert": folder / "node.pem",
             "key": folder / "node.key", "csr": folder / "node.csr", "ext": folder / "san.ext"}
    files["ext"].write_text("subjectAltName=IP:127.0.0.1\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=TIMEOUT)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
            "-keyout", str(files["ca_key"]), "-out", str(files["ca"]))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", str(files["key"]), "-out", str(files["csr"]))
    openssl("x509", "-req", "-in", str(files["csr"]), "-CA", str(files["ca"]), "-CAkey",
            str(files["ca_key"]), "-CAcreateserial", "-days", "1", "-extfile", str(files["ext"]),
            "-out", str(files["cert"]))
    return {name: str(files[name]) for name in ("ca", "cert", "key")}


def security(tls: dict[str, str] | None) -> Security | None:
    """Dask's client-side TLS settings for the files of :func:`make_tls_files`."""
    if tls is None:
        return None
    return Security(tls_ca_file=tls["ca"], tls_client_cert=tls["cert"],
                    tls_client_key=tls["key"], require_encryption=True)


@dataclass
class CliCluster:
    """The processes of a command-line Dask cluster."""

    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)
    tls: dict[str, str] | None = None

    @property
    def sessions(self) -> set[int]:
        return {p.pid for p in [self.scheduler, *self.workers]}

    def kill_scheduler(self) -> None:
        os.killpg(self.scheduler.pid, signal.SIGKILL)
        self.scheduler.wait(TIMEOUT)


_NO_SUITKAISE = """
import sys


class NoSuitkaise:
    def find_spec(self, name, path=None, target=None):
        if name == "suitkaise" or name.startswith("suitkaise."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoSuitkaise())
"""


def start_worker_without_suitkaise(cluster: CliCluster, tmp_path: Path) -> subprocess.Popen:
    """A ``dask worker`` whose processes cannot import suitkaise (a ``sitecustomize``
    hides it), as on a machine where it was never installed; ``cli_cluster`` ends it."""
    site = tmp_path / "no-suitkaise"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_NO_SUITKAISE)
    worker = subprocess.Popen(
        _dask_command("worker", cluster.address, "--nthreads", "1", "--no-dashboard",
                      "--local-directory", str(tmp_path)),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(site)},
    )
    cluster.workers.append(worker)
    with Client(cluster.address, timeout=TIMEOUT, set_as_default=False) as client:
        client.wait_for_workers(1, timeout=TIMEOUT)
    return worker


@contextmanager
def cli_cluster(tmp_path: Path, workers: int = 2, tls: dict[str, str] | None = None,
                allowed_failures: int = 3) -> Iterator[CliCluster]:
    """``dask scheduler`` plus *workers* ``dask worker`` processes (one thread each);
    with *tls* (see :func:`make_tls_files`), every connection uses TLS. The scheduler
    fails a task after ``allowed_failures + 1`` of its workers died running it."""
    scheduler_file = tmp_path / "scheduler.json"
    # Like any Dask worker, ours import the modules that define the tasks' functions and
    # classes by name (cerial sends only what cannot be imported by value): the tests.
    here = Path(__file__).resolve().parent
    path = [str(here), str(here.parent), os.environ.get("PYTHONPATH", "")]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))}
    logs = (tmp_path / "dask.log").open("wb")
    common = {"stdout": logs, "stderr": subprocess.STDOUT, "env": environment,
              "start_new_session": True}
    tls_options: list[str] = []
    if tls is not None:
        tls_options = ["--tls-ca-file", tls["ca"], "--tls-cert", tls["cert"],
                       "--tls-key", tls["key"]]
    failures = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(allowed_failures)}
    scheduler = subprocess.Popen(
        _dask_command("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                      "--scheduler-file", str(scheduler_file),
                      *(["--protocol", "tls"] if tls else []), *tls_options),
        **{**common, "env": {**environment, **failures}},
    )
    cluster = CliCluster(address="", scheduler=scheduler, tls=tls)
    try:
        wait_for(lambda: scheduler_file.exists() and scheduler_file.stat().st_size > 0,
                 what="the scheduler's address file")
        cluster.address = json.loads(scheduler_file.read_text())["address"]
        for n in range(workers):
            cluster.workers.append(subprocess.Popen(
                _dask_command("worker", cluster.address, "--nthreads", "1", "--no-dashboard",
                              "--name", f"worker-{n + 1}", "--local-directory", str(tmp_path),
                              *tls_options),
                **common,
            ))
        if workers:
            with Client(cluster.address, timeout=TIMEOUT, set_as_default=False,
                        security=security(tls)) as client:
                client.wait_for_workers(workers, timeout=TIMEOUT)
        yield cluster
    finally:
        sessions = cluster.sessions
        for process in [*cluster.workers, scheduler]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*cluster.workers, scheduler]:
            try:
                process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(TIMEOUT)
        try:
            wait_for(lambda: not processes_in_sessions(sessions),
                     what="the cluster's processes to end")
        finally:
            for session in sessions:
                try:
                    os.killpg(session, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            logs.close()


def alive(pid: int) -> bool:
    """True while process *pid* exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
