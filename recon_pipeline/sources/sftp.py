"""Pick up bank statements from the bank's SFTP server into the landing zone.

The bank's server is outside our control, so everything here assumes the worst of it:

* Trust is explicit. The host key must already be in the configured known_hosts file
  (never the system files, never added on first use); an unknown or changed key is refused
  before any credential is sent, because a man in the middle could otherwise feed us forged
  statements. Authentication is with the configured key only: no agent, no ``~/.ssh`` keys.
* A file is taken only when it is complete: its (size, mtime) was the same at two looks, or,
  when the bank writes marker files, its ``<name><marker_suffix>`` exists. The looks are plain
  JSON so a Dagster sensor cursor can carry them from one tick to the next.
* Downloads stream through ``LandingZone.land_stream`` with the remote size as the expected
  size, so a dropped connection or short read lands nothing. Network hiccups are retried with
  exponential backoff; host-key and authentication failures are not (retrying cannot fix them
  and would only hammer the bank's server).
* Nothing the server sends is unbounded: a file listed over ``max_file_bytes`` is not
  downloaded (reported, named), a download that runs past it is stopped, and the whole pull
  has a ``deadline``: when it passes, the connection is closed under the transfer (a server
  trickling bytes never ends a read on its own), nothing lands, the ``.part`` file is
  removed, and the remaining files wait for the next pull. ``.part`` files left by a killed
  process are removed at the start of a pull.
* Remote files are never deleted. With ``archive_dir`` configured they are moved there, and
  only after the landed copy is durable, so a crash at any point loses nothing.

``pull_statements`` is the one entry point, shared by the SFTP sensor and ``recon run``.
"""
from __future__ import annotations

import logging
import posixpath
import socket
import stat
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, TypeVar

import paramiko

from recon_pipeline.landing.zone import LandedFile, LandingZone
from recon_pipeline.settings import SftpSettings
from recon_pipeline.statements.model import MAX_STATEMENT_BYTES

log = logging.getLogger(__name__)

KIND = "statements"
DEFAULT_DEADLINE_SECONDS = 900.0     # a whole pull; the sensor passes one shorter than its tick timeout
# Names a sender uses while a file is still being written; never taken whatever their age.
IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".filepart")

T = TypeVar("T")


# ----- errors -------------------------------------------------------------------------------
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


_PERMANENT = (SftpConfigError, HostKeyRejected, AuthenticationFailed)


# ----- retry policy -------------------------------------------------------------------------
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


# ----- connection ---------------------------------------------------------------------------
def host_label(settings: SftpSettings) -> str:
    """The host as known_hosts names it: ``host`` on port 22, ``[host]:port`` otherwise."""
    return settings.host if settings.port == 22 else f"[{settings.host}]:{settings.port}"


def source_label(settings: SftpSettings) -> str:
    """Where a landed file came from, recorded in the landing zone's sidecar."""
    return f"sftp://{settings.username}@{settings.host}:{settings.port}{settings.remote_dir}"


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
    """Open one verified, key-authenticated SFTP session (no retries here; see ``_Session``).

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


class _Session:
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

    def _deadline_error(self, what: str) -> "SftpUnavailable":
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
            except _PERMANENT:
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


# ----- listing and stability ----------------------------------------------------------------
@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    mtime: int


def _is_candidate(name: str, marker_suffix: str | None) -> bool:
    lower = name.lower()
    if name.startswith(".") or lower.endswith(IN_PROGRESS_SUFFIXES):
        return False
    return not (marker_suffix and name.endswith(marker_suffix))


def list_remote(sftp: paramiko.SFTPClient, settings: SftpSettings) -> tuple[list[RemoteFile], set[str]]:
    """Candidate files in ``remote_dir`` (sorted by name) and the set of every name present.

    The full name set is returned so marker files (which are not candidates) can be checked.
    Directories, symlinks to nowhere, dotfiles, in-progress names and markers are skipped.
    """
    try:
        entries = sftp.listdir_attr(settings.remote_dir)
    except FileNotFoundError as exc:
        raise SftpConfigError(f"SFTP remote directory {settings.remote_dir} does not exist on "
                              f"{host_label(settings)}") from exc
    except PermissionError as exc:
        raise SftpConfigError(f"SFTP remote directory {settings.remote_dir} on {host_label(settings)} "
                              f"is not readable for {settings.username!r}") from exc
    names = {e.filename for e in entries}
    files = []
    for entry in entries:
        if entry.st_mode is not None and not stat.S_ISREG(entry.st_mode):
            continue
        if not _is_candidate(entry.filename, settings.marker_suffix):
            continue
        files.append(RemoteFile(entry.filename, int(entry.st_size or 0), int(entry.st_mtime or 0)))
    files.sort(key=lambda f: f.name)
    return files, names


def _clean_looks(previous: Any) -> dict[str, dict[str, Any]]:
    """Keep only well-formed entries: a damaged cursor costs one extra look, never a crash."""
    if not isinstance(previous, Mapping):
        return {}
    looks = {}
    for name, look in previous.items():
        if (isinstance(name, str) and isinstance(look, Mapping)
                and isinstance(look.get("size"), int) and isinstance(look.get("mtime"), int)
                and isinstance(look.get("since"), (int, float))):
            looks[name] = dict(look)
    return looks


# ----- pulling -------------------------------------------------------------------------------
@dataclass
class PullResult:
    """What one pull did. ``next_looks`` is the JSON-able state to pass to the next pull."""

    landed: list[LandedFile] = field(default_factory=list)       # new bytes, landed by this pull
    already_landed: list[str] = field(default_factory=list)      # remote names whose bytes were already landed
    skipped_unstable: list[str] = field(default_factory=list)    # not yet complete; looked at again next time
    archived: list[str] = field(default_factory=list)            # moved to archive_dir after landing
    errors: list[str] = field(default_factory=list)              # one line each; the file is retried next pull
    next_looks: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The landing-zone record of every already-landed name, so a caller can replay its
    # run request idempotently (run key = sha256) if an earlier pull died before doing so.
    redelivered: list[LandedFile] = field(default_factory=list)


def pull_statements(settings: SftpSettings, landing: LandingZone,
                    previous_looks: Mapping[str, Any] | None = None, *,
                    retry: RetryPolicy | None = None, timeout: float = 15.0,
                    second_look_after: float | None = None,
                    clock: Callable[[], float] = time.time,
                    sleep: Callable[[float], None] = time.sleep,
                    deadline: float | None = DEFAULT_DEADLINE_SECONDS,
                    max_file_bytes: int = MAX_STATEMENT_BYTES) -> PullResult:
    """Land every complete statement file in ``remote_dir`` that has not been taken yet.

    ``previous_looks`` is the ``next_looks`` of the previous pull (``{}`` the first time).
    Without a marker suffix a file first seen now is only taken at a later look, so a caller
    without a cursor (``recon run``) can pass ``second_look_after=<seconds>`` to take both
    looks in one call.

    Raises ``SftpSourceError`` when nothing could be done at all (host key, authentication,
    configuration, server unreachable after retries); once listing succeeded, per-file
    problems are reported in ``errors`` instead, so files already landed are never hidden
    behind an exception. ``deadline`` bounds the whole pull (seconds); ``max_file_bytes``
    each file.
    """
    retry = retry or RetryPolicy()
    looks = _clean_looks(previous_looks)
    landing.remove_stale_parts()
    session = _Session(settings, retry, timeout, sleep, deadline)
    result = PullResult()
    try:
        files, names = session.run("listing", lambda sftp: list_remote(sftp, settings))
        if second_look_after is not None and settings.marker_suffix is None:
            fresh = _assess(files, names, looks, settings, clock())
            if fresh[1]:  # something is waiting for its second look
                looks = fresh[2]
                sleep(max(second_look_after, settings.stable_seconds))
                files, names = session.run("listing", lambda sftp: list_remote(sftp, settings))
        taken, skipped, next_looks = _assess(files, names, looks, settings, clock())
        result.skipped_unstable = skipped
        result.next_looks = next_looks
        for remote in taken:
            if remote.size > max_file_bytes:
                result.errors.append(f"{remote.name}: {remote.size} bytes, over the {max_file_bytes}-byte cap "
                                     "for statement files; not downloaded")
                continue
            try:
                _take(session, settings, landing, remote, names, result, max_file_bytes)
            except (*_PERMANENT, SftpUnavailable) as exc:
                # The server turned hostile, refused our key, or stayed unreachable through
                # every retry: stop (the remaining files keep their looks and are tried next
                # pull) but keep what has landed so far, which is durable and in next_looks.
                result.errors.append(f"{remote.name}: {one_line(exc)}")
                return result
            except Exception as exc:
                result.errors.append(f"{remote.name}: {one_line(exc)}")
        _retry_pending_archives(session, settings, landing, files, names, looks, result)
    finally:
        session.close()
    return result


def _assess(files: list[RemoteFile], names: set[str], looks: dict[str, dict[str, Any]],
            settings: SftpSettings, now: float) -> tuple[list[RemoteFile], list[str], dict[str, dict[str, Any]]]:
    """Split the listing into files to take now and files to look at again.

    ``since`` is when we first saw the current (size, mtime), on our clock: the server's
    clock is not comparable with ours, so ``stable_seconds`` is measured from our own looks.
    Files already taken (``sha256`` recorded with an unchanged signature) are neither.
    Files that vanished drop out, which keeps the cursor as small as the remote directory.
    """
    taken: list[RemoteFile] = []
    skipped: list[str] = []
    next_looks: dict[str, dict[str, Any]] = {}
    for remote in files:
        prev = looks.get(remote.name)
        unchanged = prev is not None and (prev["size"], prev["mtime"]) == (remote.size, remote.mtime)
        look: dict[str, Any] = {"size": remote.size, "mtime": remote.mtime,
                                "since": prev["since"] if unchanged else now}
        if unchanged and prev.get("sha256"):
            look["sha256"] = prev["sha256"]
            next_looks[remote.name] = look
            continue
        next_looks[remote.name] = look
        old_enough = now - look["since"] >= settings.stable_seconds
        if settings.marker_suffix:
            complete = f"{remote.name}{settings.marker_suffix}" in names
        else:
            complete = unchanged
        if complete and old_enough:
            taken.append(remote)
        else:
            skipped.append(remote.name)
    return taken, skipped, next_looks


def _take(session: _Session, settings: SftpSettings, landing: LandingZone, remote: RemoteFile,
          names: set[str], result: PullResult, max_file_bytes: int | None = None) -> None:
    path = posixpath.join(settings.remote_dir, remote.name)
    source = source_label(settings)

    def download(sftp: paramiko.SFTPClient) -> LandedFile:
        with sftp.open(path, "rb") as fh:
            _start_prefetch(fh, remote.size)
            return landing.land_stream(KIND, fh, remote.name, source, expected_size=remote.size,
                                       max_bytes=max_file_bytes)

    landed = session.run(f"download of {remote.name}", download)
    look = result.next_looks[remote.name]
    look["sha256"] = landed.sha256
    if landed.is_new:
        result.landed.append(landed)
    else:
        result.already_landed.append(remote.name)
        result.redelivered.append(landed)
    if settings.archive_dir:
        _archive(session, settings, landing, remote, landed.sha256, names, result)


def _start_prefetch(fh: paramiko.SFTPFile, size: int) -> None:
    """Pipeline the reads of a whole file without holding it in memory.

    Paramiko only takes prefetched data off the channel when ``read`` asks for it, so the SSH
    window bounds what sits in memory while ``land_stream`` pulls the file through in chunks.
    No ``max_concurrent_requests``: paramiko's limiter busy-waits forever in its thread once
    the connection is gone. And when the connection drops while paramiko's prefetch thread is
    still sending requests, that thread dies with the same error the reading side reports
    (and retries); it is caught there, so a dropped download is one logged error rather than
    an extra "exception in thread" traceback on the daemon's stderr.
    """
    issue = getattr(fh, "_prefetch_thread", None)
    if callable(issue):
        def quiet_issue(*args: Any, **kwargs: Any) -> None:
            try:
                issue(*args, **kwargs)
            except (OSError, EOFError, paramiko.SSHException) as exc:
                log.debug("prefetch stopped: %s", one_line(exc))

        fh._prefetch_thread = quiet_issue  # paramiko starts its thread with self._prefetch_thread
    fh.prefetch(size)


def _retry_pending_archives(session: _Session, settings: SftpSettings, landing: LandingZone,
                            files: list[RemoteFile], names: set[str], looks: dict[str, dict[str, Any]],
                            result: PullResult) -> None:
    """Files taken by an earlier pull whose archive move failed are moved now."""
    if not settings.archive_dir:
        return
    for remote in files:
        look = result.next_looks.get(remote.name)
        prev = looks.get(remote.name)
        if (look and prev and look.get("sha256") and prev.get("sha256") == look["sha256"]
                and remote.name not in result.archived):
            try:
                _archive(session, settings, landing, remote, look["sha256"], names, result)
            except (*_PERMANENT, SftpUnavailable) as exc:
                result.errors.append(f"{remote.name}: {one_line(exc)}")
                return
            except Exception as exc:
                result.errors.append(f"{remote.name}: {one_line(exc)}")


def archive_path(settings: SftpSettings) -> str:
    """``archive_dir`` as an absolute remote path (a relative one lives under ``remote_dir``)."""
    assert settings.archive_dir
    return posixpath.normpath(posixpath.join(settings.remote_dir, settings.archive_dir))


def _archive(session: _Session, settings: SftpSettings, landing: LandingZone, remote: RemoteFile, sha: str,
             names: set[str], result: PullResult) -> None:
    """Move a landed file (and its marker) into ``archive_dir``; never delete, never overwrite.

    Refuses unless the landed copy is on disk (the remote file is the only other copy), and
    leaves the file alone if it changed since it was read: those bytes were never landed and
    the next pull takes them. The marker goes too, or a later delivery under the same name
    would look complete at once.
    """
    if not landing.contains(KIND, sha):
        raise SftpSourceError(f"not archived: landed copy {sha} is missing")
    target_dir = archive_path(settings)
    src = posixpath.join(settings.remote_dir, remote.name)
    marker = f"{remote.name}{settings.marker_suffix}" if settings.marker_suffix else None

    def move(sftp: paramiko.SFTPClient) -> bool:
        try:
            attrs = sftp.stat(src)
        except FileNotFoundError:
            attrs = None  # a retried rename that had in fact gone through
        if attrs is not None and (int(attrs.st_size or 0), int(attrs.st_mtime or 0)) != (remote.size, remote.mtime):
            return False
        if not _exists(sftp, target_dir):
            sftp.mkdir(target_dir)
        if attrs is not None:
            sftp.rename(src, _free_name(sftp, target_dir, remote.name, sha))
        if marker and marker in names:
            marker_src = posixpath.join(settings.remote_dir, marker)
            if _exists(sftp, marker_src):
                sftp.rename(marker_src, _free_name(sftp, target_dir, marker, sha))
        return True

    if session.run(f"archiving of {remote.name}", move):
        result.archived.append(remote.name)
        result.next_looks.pop(remote.name, None)
    else:
        result.errors.append(f"{remote.name}: not archived: it changed on the server after it was read; "
                             f"it will be taken again")


def _free_name(sftp: paramiko.SFTPClient, folder: str, name: str, sha: str) -> str:
    """``folder/name``, or a sha-prefixed variant when an earlier delivery took that name."""
    candidates = [name, f"{sha[:16]}-{name}"] + [f"{sha[:16]}-{i}-{name}" for i in range(1, 1000)]
    for candidate in candidates:
        path = posixpath.join(folder, candidate)
        if not _exists(sftp, path):
            return path
    raise SftpSourceError(f"not archived: no free name for {name} in {folder}")


def _exists(sftp: paramiko.SFTPClient, path: str) -> bool:
    try:
        sftp.stat(path)
        return True
    except FileNotFoundError:
        return False
