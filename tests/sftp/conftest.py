"""A real SFTP server on loopback for the SFTP pickup tests.

asyncssh serves SFTP from a temporary directory (chrooted) in a background thread with its
own event loop, with throwaway host and client keys made per test session. The bank's server
is what the code under test must survive, so the server here can also misbehave on request:
``control.drop_reads = n`` cuts the next ``n`` downloads off mid-transfer by aborting the
connection after part of the file has been sent; ``control.trickle_bytes = n`` makes every
read return at most ``n`` bytes after ``control.trickle_delay`` seconds (a stalling server
that never quite stops).

If the server cannot start the test fails with the reason; an SFTP test that silently
skips would hide exactly the failures it exists to catch.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import asyncssh
import paramiko
import pytest

from recon_pipeline.settings import SftpSettings

USERNAME = "bank"
REMOTE_DIR = "/outbox"


@dataclass
class ServerControl:
    """Counters and failure switches shared between the test and the server thread."""

    drop_reads: int = 0               # how many more downloads to cut off mid-transfer
    drop_after_bytes: int = 64 * 1024
    drops: int = 0                    # downloads cut off so far
    trickle_bytes: int = 0            # > 0: each read returns at most this many bytes ...
    trickle_delay: float = 0.0        # ... after this pause
    connections: int = 0              # TCP connections accepted (host-key failures included)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def claim_drop(self) -> bool:
        with self.lock:
            if self.drop_reads > 0:
                self.drop_reads -= 1
                return True
            return False


class _CountingServer(asyncssh.SSHServer):
    """Counts every TCP connection (so tests can see that nothing was retried) and keeps it
    for shutdown: connections refused during key exchange never reach asyncssh's acceptor."""

    def __init__(self, control: ServerControl, live: list[asyncssh.SSHServerConnection]):
        self._control = control
        self._live = live

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._live.append(conn)
        with self._control.lock:
            self._control.connections += 1


class _ChrootedSFTP(asyncssh.SFTPServer):
    """SFTP confined to the test's root directory, able to drop a download half-way."""

    def __init__(self, chan: asyncssh.SSHServerChannel, root: Path, control: ServerControl):
        super().__init__(chan, chroot=str(root).encode())
        self._control = control
        self._served = 0
        self._dropping: bool | None = None

    def read(self, file_obj: Any, offset: int, size: int) -> Any:
        if self._control.trickle_bytes:
            return self._trickle(file_obj, offset, size)
        if self._dropping is None:
            self._dropping = self._control.claim_drop()
        data = super().read(file_obj, offset, size)
        self._served += len(data)
        if self._dropping and self._served >= self._control.drop_after_bytes:
            self._dropping = False
            with self._control.lock:
                self._control.drops += 1
            self.connection.abort()
            raise asyncssh.SFTPFailure("connection dropped by the test server")
        return data


    async def _trickle(self, file_obj: Any, offset: int, size: int) -> bytes:
        await asyncio.sleep(self._control.trickle_delay)
        return super().read(file_obj, offset, min(size, self._control.trickle_bytes))


@dataclass
class SftpServer:
    host: str
    port: int
    root: Path
    outbox: Path
    known_hosts: Path
    client_key_file: Path
    control: ServerControl

    @property
    def url(self) -> str:
        return f"sftp://{USERNAME}@{self.host}:{self.port}{REMOTE_DIR}"

    def known_hosts_line(self, key: asyncssh.SSHKey, host: str | None = None) -> str:
        """A known_hosts entry claiming ``key`` for this server (or for ``host`` on its port)."""
        return known_hosts_line(host or self.host, self.port, key)

    def settings(self, **overrides: Any) -> SftpSettings:
        base = SftpSettings(host=self.host, port=self.port, username=USERNAME, remote_dir=REMOTE_DIR,
                            key_file=self.client_key_file, known_hosts=self.known_hosts)
        return replace(base, **overrides)


@dataclass(frozen=True)
class Keys:
    host_key: asyncssh.SSHKey
    other_host_key: asyncssh.SSHKey       # what a man in the middle would present
    client_key: asyncssh.SSHKey
    client_key_file: Path
    stranger_key_file: Path               # a client key the server does not authorise


def known_hosts_line(host: str, port: int, key: asyncssh.SSHKey) -> str:
    keytype, blob = key.export_public_key("openssh").decode().split()[:2]
    return f"[{host}]:{port} {keytype} {blob}\n"


@pytest.fixture(scope="session")
def ssh_keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    folder = tmp_path_factory.mktemp("ssh-keys")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    client_key_file = folder / "id_ed25519"
    stranger_key_file = folder / "stranger_ed25519"
    client_key.write_private_key(str(client_key_file), "openssh")
    stranger.write_private_key(str(stranger_key_file), "openssh")
    return Keys(
        host_key=asyncssh.generate_private_key("ssh-ed25519"),
        other_host_key=asyncssh.generate_private_key("ssh-ed25519"),
        client_key=client_key,
        client_key_file=client_key_file,
        stranger_key_file=stranger_key_file,
    )


class _ServerThread:
    """Runs the asyncssh listener on a private event loop; ``stop()`` leaves no thread behind."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="test-sftp-server", daemon=True)
        self.listener: asyncssh.SSHAcceptor | None = None
        self.connections: list[asyncssh.SSHServerConnection] = []

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        # asyncssh does file I/O in the default executor; its worker threads must end too.
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()

    def start(self, root: Path, keys: Keys, control: ServerControl) -> int:
        self.thread.start()

        async def listen() -> int:
            self.listener = await asyncssh.listen(
                host="127.0.0.1", port=0,
                server_host_keys=[keys.host_key],
                authorized_client_keys=asyncssh.import_authorized_keys(
                    keys.client_key.export_public_key("openssh").decode()),
                server_factory=lambda: _CountingServer(control, self.connections),
                sftp_factory=lambda chan: _ChrootedSFTP(chan, root, control),
                allow_scp=False,
                login_timeout=10,
            )
            return self.listener.get_port()

        return asyncio.run_coroutine_threadsafe(listen(), self.loop).result(timeout=15)

    def stop(self) -> None:
        async def shutdown() -> None:
            for conn in self.connections:
                conn.abort()
            for conn in self.connections:
                await conn.wait_closed()
            if self.listener is not None:
                self.listener.close()
                await self.listener.wait_closed()

        if self.thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(timeout=10)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self.thread.join(timeout=10)


@pytest.fixture
def sftp_server(tmp_path: Path, ssh_keys: Keys) -> Iterator[SftpServer]:
    root = tmp_path / "sftp-root"
    outbox = root / REMOTE_DIR.strip("/")
    outbox.mkdir(parents=True)
    control = ServerControl()
    server = _ServerThread()
    failure = None
    try:
        port = server.start(root, ssh_keys, control)
    except Exception as exc:  # noqa: BLE001 - any failure to start is the test's failure
        failure = f"{type(exc).__name__}: {exc}"
    if failure is not None:
        server.stop()
        pytest.fail(f"could not start the loopback SFTP server (asyncssh {asyncssh.__version__}): {failure}",
                    pytrace=False)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(known_hosts_line("127.0.0.1", port, ssh_keys.host_key))
    yield SftpServer(host="127.0.0.1", port=port, root=root, outbox=outbox, known_hosts=known_hosts,
                     client_key_file=ssh_keys.client_key_file, control=control)
    server.stop()
    assert not server.thread.is_alive(), "the SFTP server thread did not stop"
    lingering = [t for t in threading.enumerate() if isinstance(t, paramiko.Transport) and t.is_alive()]
    assert not lingering, f"SSH client transports left running: {lingering}"
