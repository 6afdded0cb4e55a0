"""When is a remote file complete? The stability rule, and the listing it judges.

A file is taken only when it is complete: its (size, mtime) was the same at two looks, or, when
the bank writes marker files, its ``<name><marker_suffix>`` exists. ``stable_seconds`` adds a
minimum age measured on our own clock (the server's is not comparable with ours). The looks are
plain JSON, so whoever keeps them between pulls can store them as they are.
"""
from __future__ import annotations

import stat
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import paramiko

from recon_pipeline.settings import SftpSettings
from recon_pipeline.sources.sftp.errors import SftpConfigError, host_label

# Names a sender uses while a file is still being written; never taken whatever their age.
IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".filepart")


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


def clean_looks(previous: Any) -> dict[str, dict[str, Any]]:
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


def assess(files: list[RemoteFile], names: set[str], looks: dict[str, dict[str, Any]],
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
