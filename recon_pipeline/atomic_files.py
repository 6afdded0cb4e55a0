"""Small files written so that a reader, or a crash, sees the old file or the whole new one.

Pointers, markers, mirrored decisions, spooled audit records and landing metadata are read by
other processes (the portal, the next run, a rebuild from the landing zone) and must survive a
power cut: each is written to a temporary file, flushed to disk, renamed over its final name
(atomic on POSIX), and its folder flushed so the rename itself is durable.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomically(path: Path, text: str, tmp_dir: Path | None = None) -> None:
    """Replace ``path`` with ``text``. ``tmp_dir`` (same file system) keeps the temporary file
    out of a folder whose listing means something; by default it sits beside ``path`` under a
    dotted ``.tmp`` name that no reader's pattern matches."""
    folder = tmp_dir or path.parent
    folder.mkdir(parents=True, exist_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file 0600; the file keeps its mode, or gets what a plain write would
        # (0666 less the umask), so a portal or restore running as another user can still read it.
        try:
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


def _umask() -> int:
    """The process umask, read without setting it (``os.umask`` sets it for every thread)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's entry to disk (a rename is durable once its folder is)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
