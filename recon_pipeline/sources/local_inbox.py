"""The embedded default source: local inbox folders for statements and event snapshots.

Files are copied (never moved or deleted) into the content-addressed landing zone, so the
inbox can be re-scanned at any time and a re-delivered file, under any name, lands once.
A small index of (name, size, mtime) → sha256 avoids re-hashing unchanged files each scan.

Only regular files that live inside the inbox are taken. A symbolic link (to a file or a
folder), a device, a FIFO or a socket is refused with a reason and never read: whoever can
write the inbox could otherwise make recon copy any file it can read (the SFTP private key)
into the warehouse, or hang a scan on a FIFO. Files are opened without following links, so a
file swapped for a link between the listing and the read is refused too.
"""
from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from recon_pipeline.landing.zone import LandedFile, LandingZone

_EVENT_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".ndjson")


@dataclass
class InboxScan:
    landed: list[LandedFile] = field(default_factory=list)
    already_landed: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)   # (path in the inbox, one-line reason)


def _hidden(name: str) -> bool:
    return name.startswith(".")


def inbox_entries(folder: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Regular files inside ``folder`` (sorted), and what was refused, with the reason.

    Hidden names and in-progress names (``.part``, ``.tmp``) are neither taken nor refused.
    """
    if not folder.is_dir():
        return [], []
    root = folder.resolve()
    files: list[Path] = []
    refused: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        for name in list(dirnames):
            if _hidden(name):
                dirnames.remove(name)
            elif (here / name).is_symlink():
                dirnames.remove(name)
                refused.append((str((here / name).relative_to(folder)), "is a symbolic link to a folder; not followed"))
        for name in filenames:
            if _hidden(name) or name.endswith((".part", ".tmp")):
                continue
            path = here / name
            reason = _refusal(path, root)
            if reason:
                refused.append((str(path.relative_to(folder)), reason))
            else:
                files.append(path)
    return sorted(files), sorted(refused)


def _refusal(path: Path, root: Path) -> str | None:
    try:
        info = os.lstat(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISLNK(info.st_mode):
        return f"is a symbolic link (to {os.readlink(path)}); links are never followed"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file (a device, FIFO or socket)"
    if not path.resolve().is_relative_to(root):
        return "lies outside the inbox"
    return None


def _open_regular(path: Path):
    """Open without following a link (a file swapped for one since the listing is refused)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path.name} is not a regular file")
    return os.fdopen(fd, "rb")


def scan_inbox(folder: Path | None, landing: LandingZone, kind: str) -> InboxScan:
    """Land every file in ``folder`` not landed before; ``kind`` is "statements" or "events"."""
    scan = InboxScan()
    if folder is None:
        return scan
    index_path = landing.root / f".inbox_index_{kind}.json"
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        index = {}
    files, scan.refused = inbox_entries(folder)
    for path in files:
        if kind == "events" and not path.name.lower().endswith(_EVENT_SUFFIXES):
            continue
        info = path.stat()
        fingerprint = f"{path.resolve()}|{info.st_size}|{info.st_mtime_ns}"
        known_sha = index.get(fingerprint)
        if known_sha and landing.contains(kind, known_sha):
            scan.already_landed.append(path.name)
            continue
        try:
            with _open_regular(path) as fh:
                landed = landing.land_stream(kind, fh, path.name, source=f"inbox:{folder}")
        except OSError as exc:
            scan.refused.append((str(path.relative_to(folder)), f"cannot be opened as a regular file "
                                                                f"({exc.strerror or exc})"))
            continue
        index[fingerprint] = landed.sha256
        (scan.landed if landed.is_new else scan.already_landed).append(
            landed if landed.is_new else path.name)
    landing.root.mkdir(parents=True, exist_ok=True)
    tmp = index_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(index, sort_keys=True), encoding="utf-8")
    os.replace(tmp, index_path)
    return scan
