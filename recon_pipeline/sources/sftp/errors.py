"""SFTP problems as one line each, and which of them no retry can fix.

A sensor shows the line as its skip reason and ``recon run`` as its exit message, so every
error names the host (as known_hosts spells it) and what to change.
"""
from __future__ import annotations

import socket

import paramiko

from recon_pipeline.settings import SftpSettings


class SftpSourceError(Exception):
    """An SFTP problem reported to the user as one line (sensor skip reason, CLI exit message)."""


class SftpConfigError(SftpSourceError):
    """The SFTP settings cannot work (missing key file, missing known_hosts, no remote dir)."""


class HostKeyRejected(SftpSourceError):
    """The server's host key is unknown or differs from known_hosts: never retried."""


class AuthenticationFailed(SftpSourceError):
    """The server refused our credentials: never retried."""


class SftpUnavailable(SftpSourceError):
    """The server could not be reached or kept dropping us, after every retry."""


PERMANENT = (SftpConfigError, HostKeyRejected, AuthenticationFailed)


def is_transient(exc: BaseException) -> bool:
    """Whether trying again could plausibly succeed.

    Socket errors, timeouts, EOF and SSH protocol hiccups ("connection dropped", a banner that
    never came) are transient. Host-key and authentication failures, a missing or forbidden
    remote file, and SFTP protocol errors are not.
    """
    if isinstance(exc, SftpSourceError):
        return isinstance(exc, SftpUnavailable)
    if isinstance(exc, (paramiko.BadHostKeyException, paramiko.AuthenticationException)):
        return False
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return False
    return isinstance(exc, (paramiko.SSHException, EOFError, socket.timeout, OSError))


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()).rstrip(" :") or type(exc).__name__
    return text if isinstance(exc, SftpSourceError) else f"{type(exc).__name__}: {text}"


def host_label(settings: SftpSettings) -> str:
    """The host as known_hosts names it: ``host`` on port 22, ``[host]:port`` otherwise."""
    return settings.host if settings.port == 22 else f"[{settings.host}]:{settings.port}"


def source_label(settings: SftpSettings) -> str:
    """Where a landed file came from, recorded in the landing zone's sidecar."""
    return f"sftp://{settings.username}@{settings.host}:{settings.port}{settings.remote_dir}"
