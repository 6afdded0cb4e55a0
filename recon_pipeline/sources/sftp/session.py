"""A lazily (re)opened SFTP connection, the retry loop around each remote operation, and a deadline.

Network hiccups are retried with exponential backoff; host-key and authentication failures
are not (retrying cannot fix them and would only hammer the bank's server). The whole pull has
one deadline: when it passes, the connection is closed under the transfer (a server trickling
bytes never ends a read on its own) and the operation fails with one line.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import paramiko

from recon_pipeline.settings import SftpSettings
from recon_pipeline.sources.sftp.errors import PERMANENT, SftpUnavailable, host_label, is_transient, one_line
from recon_pipeline.sources.sftp.trust import close_client, connect

log = logging.getLogger("recon_pipeline.sources.sftp")

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for transient network errors.

    Kept out of ``SftpSettings`` because it is a property of the code's patience, not of the
    bank; tests pass tiny delays to exercise it quickly.
    """

    attempts: int = 4
    base_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 8.0

    def delay(self, failed_attempt: int) -> float:
        """Seconds to wait after the ``failed_attempt``-th failure (1-based)."""
        return min(self.max_delay, self.base_delay * self.factor ** (failed_attempt - 1))


class Session:
    """A lazily (re)opened connection plus the retry loop around each remote operation.

    A transient failure throws the connection away, waits, reconnects and repeats the whole
    operation, so every operation passed in must be safe to repeat (listing, a download that
    lands atomically, a rename that is checked first).
    """

    def __init__(self, settings: SftpSettings, retry: RetryPolicy, timeout: float,
                 sleep: Callable[[float], None], deadline: float | None = None):
        self.settings = settings
        self.retry = retry
        self.timeout = timeout
        self._sleep = sleep
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self.connections = 0
        self.deadline = deadline
        self._ends_at = None if deadline is None else time.monotonic() + deadline
        self.expired = False

    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            self._client, self._sftp = connect(self.settings, self.timeout)
            self.connections += 1
        return self._sftp

    def close(self) -> None:
        if self._sftp is not None:
            try:
                self._sftp.close()
            except Exception:  # a dead connection may fail to close; it is gone either way
                pass
        if self._client is not None:
            close_client(self._client)
        self._sftp = self._client = None

    def _expire(self) -> None:
        """Called by the deadline timer: cut the connection under whatever is running."""
        self.expired = True
        client = self._client
        if client is not None:
            transport = client.get_transport()
            if transport is not None:
                transport.close()

    def _deadline_error(self, what: str) -> SftpUnavailable:
        return SftpUnavailable(f"{what} on {host_label(self.settings)} stopped: the pull's deadline of "
                               f"{self.deadline:g}s passed (the rest waits for the next pull)")

    def run(self, what: str, operation: Callable[[paramiko.SFTPClient], T]) -> T:
        attempts = max(1, self.retry.attempts)
        for attempt in range(1, attempts + 1):
            remaining = None if self._ends_at is None else self._ends_at - time.monotonic()
            if self.expired or (remaining is not None and remaining <= 0):
                self.expired = True
                self.close()
                raise self._deadline_error(what)
            timer = None
            if remaining is not None:
                timer = threading.Timer(remaining, self._expire)
                timer.daemon = True
                timer.start()
            try:
                return operation(self.sftp())
            except PERMANENT:
                self.close()
                raise
            except Exception as exc:
                if self.expired:
                    self.close()
                    raise self._deadline_error(what) from exc
                if not is_transient(exc):
                    raise
                self.close()
                if attempt == attempts:
                    raise SftpUnavailable(
                        f"{what} on {host_label(self.settings)} failed after {attempts} "
                        f"attempt{'s' if attempts > 1 else ''}: {one_line(exc)}") from exc
                delay = self.retry.delay(attempt)
                log.warning("%s failed (attempt %d of %d: %s); retrying in %.2fs",
                            what, attempt, attempts, one_line(exc), delay)
                self._sleep(delay)
            finally:
                if timer is not None:
                    timer.cancel()
        raise AssertionError("unreachable")
