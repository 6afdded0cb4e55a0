"""Move a landed file out of the bank's drop folder: never delete, never overwrite, never early.

Remote files are never deleted. With ``archive_dir`` configured they are moved there, and only
after the landed copy is durable, so a crash at any point loses nothing: the remote file is the
only other copy until then.
"""
from __future__ import annotations

import posixpath

import paramiko

from recon_pipeline.landing.zone import LandingZone
from recon_pipeline.settings import SftpSettings
from recon_pipeline.sources.sftp.errors import SftpSourceError
from recon_pipeline.sources.sftp.session import Session
from recon_pipeline.sources.sftp.stability import RemoteFile

KIND = "statements"


def archive_path(settings: SftpSettings) -> str:
    """``archive_dir`` as an absolute remote path (a relative one lives under ``remote_dir``)."""
    assert settings.archive_dir
    return posixpath.normpath(posixpath.join(settings.remote_dir, settings.archive_dir))


def archive(session: Session, settings: SftpSettings, landing: LandingZone, remote: RemoteFile, sha: str,
            names: set[str]) -> bool:
    """Move a landed file (and its marker) into ``archive_dir``; False if it changed since it was read.

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

    return session.run(f"archiving of {remote.name}", move)


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
