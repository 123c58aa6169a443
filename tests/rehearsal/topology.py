"""The production topology on this machine, started from Debian's packages on free loopback ports: a
PostgreSQL primary and a streaming replica (initdb, pg_basebackup -R; as the postgres user, which
PostgreSQL requires), PgBouncer in transaction pooling mode in front of the primary, and a Redis of its
own. Everything lives under one temporary directory and is stopped and removed by `stop()`."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import suppress
from pathlib import Path

PG_BIN = Path(os.environ.get("REHEARSAL_PG_BIN", "/usr/lib/postgresql/15/bin"))
PGBOUNCER = os.environ.get("REHEARSAL_PGBOUNCER", "/usr/sbin/pgbouncer")
REDIS_SERVER = os.environ.get("REHEARSAL_REDIS_SERVER", "/usr/bin/redis-server")
DATABASE = "benefit_ledger"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, *, seconds: float = 30, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"the process for port {port} exited with {process.returncode}") from None
            time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port} after {seconds}s")


def _postgres_user() -> dict:
    """Popen's arguments that run a process as the postgres user when we are root (initdb, postgres and
    pgbouncer refuse root)."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": [], "cwd": "/"}


def _as_postgres(args: list[str]) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, **_postgres_user())
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} exited with {done.returncode}: {done.stderr[-2000:]}")
    return done


class Topology:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bl-rehearsal-"))
        self.root.chmod(0o755)
        self.primary_port = free_port()
        self.replica_port = free_port()
        self.pgbouncer_port = free_port()
        self.redis_port = free_port()
        self.processes: list[subprocess.Popen] = []
        self.clusters: list[Path] = []
        self.logs = self._owned_dir("logs")

    # --- URLs -------------------------------------------------------------------------------------
    def url(self, port: int, database: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{database}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    @property
    def pgbouncer_url(self) -> str:
        return self.url(self.pgbouncer_port)

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    # --- start --------------------------------------------------------------------------------------
    def _owned_dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(mode=0o700)
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(path, entry.pw_uid, entry.pw_gid)
        return path

    def _pg_ctl(self, data: Path, action: str, *extra: str) -> None:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-t", "60", *extra, action])

    def start_primary(self) -> None:
        data = self._owned_dir("primary")
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"])
        settings = {
            "port": self.primary_port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{data}'",
            "wal_level": "replica",
            "max_wal_senders": 5,
            "hot_standby": "on",
            "max_connections": 200,
            # A rehearsal of the topology, not of the disks: no waiting for fsync on a shared CI machine.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        with (data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        with (data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self._pg_ctl(data, "start", "-l", str(self.logs / "primary.log"))
        self.clusters.append(data)
        _as_postgres([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.primary_port), DATABASE])

    def start_replica(self) -> None:
        data = self._owned_dir("replica")
        _as_postgres(
            [
                str(PG_BIN / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.primary_port),
                "-U",
                "postgres",
                "-D",
                str(data),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ]
        )
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {self.replica_port}\nunix_socket_directories = '{data}'\n")
        self._pg_ctl(data, "start", "-l", str(self.logs / "replica.log"))
        self.clusters.append(data)

    def start_pgbouncer(self, target_port: int | None = None) -> None:
        """PgBouncer in transaction mode in front of the primary (or of the server on `target_port`)."""
        directory = self._owned_dir("pgbouncer")
        (directory / "users.txt").write_text('"postgres" ""\n')
        (directory / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={target_port or self.primary_port}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.pgbouncer_port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {directory / 'users.txt'}\n"
            "pool_mode = transaction\n"
            "max_client_conn = 500\n"
            "default_pool_size = 20\n"
            f"logfile = {directory / 'pgbouncer.log'}\n"
        )
        process = subprocess.Popen(
            [PGBOUNCER, str(directory / "pgbouncer.ini")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **_postgres_user(),
        )
        self.processes.append(process)
        wait_for_port(self.pgbouncer_port, process=process)

    def start_redis(self) -> None:
        args = [REDIS_SERVER, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(args, cwd=self.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.processes.append(process)
        wait_for_port(self.redis_port, process=process)

    def start(self) -> Topology:
        try:
            self.start_primary()
            self.start_replica()
            self.start_pgbouncer()
            self.start_redis()
        except BaseException:
            self.stop()
            raise
        return self

    # --- the replica ------------------------------------------------------------------------------
    def stop_replica(self) -> None:
        self._pg_ctl(self.root / "replica", "stop", "-m", "fast")

    def start_replica_again(self) -> None:
        self._pg_ctl(self.root / "replica", "start", "-l", str(self.logs / "replica.log"))

    # --- stop ---------------------------------------------------------------------------------------
    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        for data in reversed(self.clusters):
            if (data / "postmaster.pid").exists():
                with suppress(RuntimeError):
                    self._pg_ctl(data, "stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)
