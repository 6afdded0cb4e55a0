"""Whom we talk to: the bank's host key as known_hosts has it, and our own key, nothing else.

A man in the middle could otherwise feed us forged statements, so trust is explicit: only the
configured known_hosts file is loaded (``load_system_host_keys()`` is never called), an unknown
or changed host key is refused before any credential is sent, and authentication uses the
configured key only — no agent, no ``~/.ssh`` keys.
"""
from __future__ import annotations

import threading

import paramiko

from recon_pipeline.settings import SftpSettings
from recon_pipeline.sources.sftp.errors import (
    AuthenticationFailed,
    HostKeyRejected,
    SftpConfigError,
    SftpSourceError,
    host_label,
    is_transient,
    one_line,
)


def _fingerprint(key: paramiko.PKey) -> str:
    try:
        return f"{key.get_name()} {key.fingerprint}"
    except Exception:  # pragma: no cover - older key classes without .fingerprint
        return key.get_name()


def close_client(client: paramiko.SSHClient, wait: float = 5.0) -> None:
    """Close a client and wait for its transport thread to end.

    ``SSHClient.close()`` returns before the transport thread has finished; a sensor that
    ticks all day would otherwise leave a trail of threads winding down behind it.
    """
    transport = client.get_transport()
    try:
        client.close()
    except Exception:  # a dead connection may fail to close; it is gone either way
        pass
    if transport is not None and transport is not threading.current_thread():
        transport.join(wait)


class _RejectUnknownHost(paramiko.RejectPolicy):
    """``RejectPolicy`` with a message an operator can act on (and our own exception type)."""

    def __init__(self, settings: SftpSettings):
        self._settings = settings

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise HostKeyRejected(
            f"SFTP host key for {hostname} ({_fingerprint(key)}) is not in known_hosts "
            f"{self._settings.known_hosts}; refusing to connect")


def _load_client_key(settings: SftpSettings) -> paramiko.PKey | None:
    if settings.key_file is None:
        return None
    if not settings.key_file.is_file():
        raise SftpConfigError(f"SFTP key file {settings.key_file} does not exist (RECON_SFTP_KEY_FILE)")
    try:
        return paramiko.PKey.from_path(settings.key_file)
    except paramiko.PasswordRequiredException as exc:
        raise SftpConfigError(f"SFTP key file {settings.key_file} is passphrase-protected; "
                              f"recon needs an unencrypted key") from exc
    except (paramiko.SSHException, ValueError, OSError) as exc:
        raise SftpConfigError(f"SFTP key file {settings.key_file} cannot be read: {one_line(exc)}") from exc


def connect(settings: SftpSettings, timeout: float = 15.0) -> tuple[paramiko.SSHClient, paramiko.SFTPClient]:
    """Open one verified, key-authenticated SFTP session (no retries here; see ``session.Session``).

    Raises ``HostKeyRejected`` / ``AuthenticationFailed`` / ``SftpConfigError`` for problems a
    retry cannot fix, and lets transient network exceptions through for the caller to retry.
    """
    if settings.known_hosts is None:
        raise SftpConfigError("no SFTP known_hosts file configured (set RECON_SFTP_KNOWN_HOSTS); "
                              "refusing to connect to an unverified host")
    if not settings.known_hosts.is_file():
        raise SftpConfigError(f"SFTP known_hosts file {settings.known_hosts} does not exist")
    pkey = _load_client_key(settings)
    if pkey is None and not settings.password:
        raise SftpConfigError("no SFTP key file configured (set RECON_SFTP_KEY_FILE)")

    client = paramiko.SSHClient()
    try:
        # Only the configured file: load_system_host_keys() is deliberately never called.
        client.load_host_keys(str(settings.known_hosts))
        client.set_missing_host_key_policy(_RejectUnknownHost(settings))
        client.connect(
            settings.host, port=settings.port, username=settings.username,
            pkey=pkey, password=settings.password if pkey is None else None,
            allow_agent=False, look_for_keys=False,
            timeout=timeout, banner_timeout=timeout, auth_timeout=timeout, channel_timeout=timeout,
        )
        sftp = client.open_sftp()
        sftp.get_channel().settimeout(timeout)
        return client, sftp
    except HostKeyRejected:
        close_client(client)
        raise
    except paramiko.BadHostKeyException as exc:
        close_client(client)
        raise HostKeyRejected(
            f"SFTP host key for {host_label(settings)} does not match known_hosts {settings.known_hosts} "
            f"(possible man-in-the-middle; server offered {_fingerprint(exc.key)}); refusing to connect"
        ) from exc
    except paramiko.AuthenticationException as exc:
        close_client(client)
        raise AuthenticationFailed(
            f"SFTP server {host_label(settings)} refused authentication for user "
            f"{settings.username!r}: {one_line(exc)}") from exc
    except Exception as exc:
        close_client(client)
        if is_transient(exc):
            raise
        raise SftpSourceError(f"SFTP connection to {host_label(settings)} failed: {one_line(exc)}") from exc
    except BaseException:
        close_client(client)
        raise
