"""``pull_statements``: land every complete statement file the bank has dropped, once.

Downloads stream through ``LandingZone.land_stream`` with the remote size as the expected
size, so a dropped connection or short read lands nothing. Nothing the server sends is
unbounded: a file listed over ``max_file_bytes`` is not downloaded (reported, named), a
download that runs past it is stopped, and the whole pull has a ``deadline`` (see
``session``); when it passes nothing more lands, the ``.part`` file is removed, and the
remaining files wait for the next pull. ``.part`` files left by a killed process are removed
at the start of a pull.
"""
from __future__ import annotations

import posixpath
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import paramiko

from recon_pipeline.landing.zone import LandedFile, LandingZone
from recon_pipeline.settings import SftpSettings
from recon_pipeline.sources.sftp.archive import KIND, archive
from recon_pipeline.sources.sftp.errors import PERMANENT, SftpUnavailable, one_line, source_label
from recon_pipeline.sources.sftp.session import RetryPolicy, Session
from recon_pipeline.sources.sftp.stability import RemoteFile, assess, clean_looks, list_remote
from recon_pipeline.statements.model import MAX_STATEMENT_BYTES

DEFAULT_DEADLINE_SECONDS = 900.0     # a whole pull; the sensor passes one shorter than its tick timeout


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
    that cannot wait for its next pull can pass ``second_look_after=<seconds>`` to take both
    looks in one call.

    Raises ``SftpSourceError`` when nothing could be done at all (host key, authentication,
    configuration, server unreachable after retries); once listing succeeded, per-file
    problems are reported in ``errors`` instead, so files already landed are never hidden
    behind an exception. ``deadline`` bounds the whole pull (seconds); ``max_file_bytes``
    each file.
    """
    retry = retry or RetryPolicy()
    looks = clean_looks(previous_looks)
    landing.remove_stale_parts()
    session = Session(settings, retry, timeout, sleep, deadline)
    result = PullResult()
    try:
        files, names = session.run("listing", lambda sftp: list_remote(sftp, settings))
        if second_look_after is not None and settings.marker_suffix is None:
            fresh = assess(files, names, looks, settings, clock())
            if fresh[1]:  # something is waiting for its second look
                looks = fresh[2]
                sleep(max(second_look_after, settings.stable_seconds))
                files, names = session.run("listing", lambda sftp: list_remote(sftp, settings))
        taken, skipped, next_looks = assess(files, names, looks, settings, clock())
        result.skipped_unstable = skipped
        result.next_looks = next_looks
        for remote in taken:
            if remote.size > max_file_bytes:
                result.errors.append(f"{remote.name}: {remote.size} bytes, over the {max_file_bytes}-byte cap "
                                     "for statement files; not downloaded")
                continue
            try:
                _take(session, settings, landing, remote, names, result, max_file_bytes)
            except (*PERMANENT, SftpUnavailable) as exc:
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


def _take(session: Session, settings: SftpSettings, landing: LandingZone, remote: RemoteFile,
          names: set[str], result: PullResult, max_file_bytes: int | None = None) -> None:
    path = posixpath.join(settings.remote_dir, remote.name)
    source = source_label(settings)

    def download(sftp: paramiko.SFTPClient) -> LandedFile:
        # Plain sequential reads through paramiko's public API. Its prefetch would pipeline
        # the requests, but from a thread of its own that dies with a stray traceback when the
        # connection drops (and busy-waits with max_concurrent_requests); quieting it meant
        # patching a private attribute. Statement files are small enough to pay the round trips.
        with sftp.open(path, "rb") as fh:
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
        _archive_into(result, session, settings, landing, remote, landed.sha256, names)


def _archive_into(result: PullResult, session: Session, settings: SftpSettings, landing: LandingZone,
                  remote: RemoteFile, sha: str, names: set[str]) -> None:
    if archive(session, settings, landing, remote, sha, names):
        result.archived.append(remote.name)
        result.next_looks.pop(remote.name, None)
    else:
        result.errors.append(f"{remote.name}: not archived: it changed on the server after it was read; "
                             f"it will be taken again")


def _retry_pending_archives(session: Session, settings: SftpSettings, landing: LandingZone,
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
                _archive_into(result, session, settings, landing, remote, look["sha256"], names)
            except (*PERMANENT, SftpUnavailable) as exc:
                result.errors.append(f"{remote.name}: {one_line(exc)}")
                return
            except Exception as exc:
                result.errors.append(f"{remote.name}: {one_line(exc)}")
