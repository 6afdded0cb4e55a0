"""A PostgreSQL server of the test's own, so a test can restart or stop it under a running
pipeline without touching the machine's server that other tests (and other xdist workers) use.

The binaries are Debian's (the same major version as the machine's server). initdb refuses to
run as root, so when the tests run as root the cluster belongs to the ``postgres`` user.
Trust authentication on a loopback port and a socket directory of the test's own.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from tests.orchestration.services import free_port

BIN_ROOT = Path("/usr/lib/postgresql")


def _bin(name: str) -> str:
    versions = sorted((p for p in BIN_ROOT.glob("*/bin") if (p / name).exists()),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if not versions:
        pytest.fail(f"PostgreSQL server binaries ({name}) are not installed under {BIN_ROOT}: "
                    "apt-get install postgresql (scripts/ensure_postgres.sh does)")
    return str(versions[-1] / name)


class PrivateServer:
    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.port = free_port()
        self.log = root / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def _as_owner(self, *cmd: str, timeout: float = 120) -> subprocess.CompletedProcess:
        if os.geteuid() == 0:
            cmd = ("runuser", "-u", "postgres", "--", *cmd)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        proc = self._as_owner(_bin("pg_ctl"), action, "-D", str(self.data), "-l", str(self.log),
                              "-o", options, "-w", "-t", "60", *extra)
        if proc.returncode != 0:
            raise RuntimeError(f"pg_ctl {action} failed: {proc.stdout[-500:]} {proc.stderr[-500:]} "
                               f"{self.log.read_text(errors='replace')[-1000:] if self.log.exists() else ''}")

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
        proc = self._as_owner(_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                              "--no-sync", "-E", "UTF8")
        if proc.returncode != 0:
            pytest.fail(f"initdb failed: {proc.stderr[-500:]}")

    def start(self) -> None:
        self._pg_ctl("start")
        self.wait_ready()

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "fast")

    def restart(self) -> None:
        """A fast restart: every connection is cut, as when the server is restarted in production."""
        self._pg_ctl("restart", "-m", "fast")
        self.wait_ready()

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(f'create database "{name}"')
        return self.database_url(name)


@contextmanager
def private_postgres() -> Iterator[PrivateServer]:
    """A new cluster in a directory of its own under the system temp dir (pytest's tmp_path is
    private to root, and the server runs as ``postgres``), removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="recon-pg-"))
    root.chmod(0o755)
    server = PrivateServer(root)
    try:
        server.init()
        server.start()
        yield server
    finally:
        try:
            server.stop()
        except RuntimeError:
            pass
        shutil.rmtree(root, ignore_errors=True)
