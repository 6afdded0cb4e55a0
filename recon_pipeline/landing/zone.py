"""Immutable, content-addressed storage of incoming files.

A file is stored once under its sha256, whatever name it arrived with and however often it
is re-delivered. Writes go to a temporary name first and are renamed into place only when
complete and verified, so a crash or a dropped connection never leaves a partial file that
looks landed. Nothing here is ever edited or deleted: a re-run rebuilds everything from it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from recon_pipeline.atomic_files import write_text_atomically

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class LandedFile:
    kind: str               # "statements" or "events"
    sha256: str
    path: Path
    original_name: str
    source: str             # where it came from: "inbox:<dir>", "sftp://host/dir", "kafka:<topic>/<p>"
    landed_at: str          # ISO timestamp of the first landing
    is_new: bool            # False when the same bytes had already landed


def _extension(name: str) -> str:
    lower = name.lower()
    for ext in (".jsonl.gz", ".json.gz"):
        if lower.endswith(ext):
            return ext
    suffix = Path(lower).suffix
    return suffix if suffix and len(suffix) <= 8 and suffix[1:].isalnum() else ".dat"


class LandingZone:
    """``<root>/<kind>/<sha256><ext>`` plus a ``.meta.json`` sidecar naming the first delivery."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._tmp = self.root / ".tmp"

    # ----- writing -----------------------------------------------------------
    def land_stream(self, kind: str, stream: BinaryIO, original_name: str, source: str,
                    expected_size: int | None = None, max_bytes: int | None = None) -> LandedFile:
        """Copy a stream to a temporary file, hash it, then rename it into its content address.

        ``expected_size`` (e.g. the remote file's size) guards against a short read: a
        mismatch raises ``IOError`` and nothing lands. ``max_bytes`` stops a stream that goes
        on past it (a file still growing, a hostile sender) with ``IOError``; nothing lands,
        and the temporary ``.part`` file is removed in every case.
        """
        self._tmp.mkdir(parents=True, exist_ok=True)
        tmp_path = self._tmp / f"{uuid.uuid4().hex}.part"
        digest = hashlib.sha256()
        size = 0
        try:
            with open(tmp_path, "wb") as out:
                while True:
                    chunk = stream.read(_CHUNK)
                    if not chunk:
                        break
                    digest.update(chunk)
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise OSError(f"{original_name} is over the {max_bytes}-byte cap; not landed")
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if expected_size is not None and size != expected_size:
                raise OSError(f"short transfer of {original_name}: got {size} of {expected_size} bytes")
            return self._commit(kind, tmp_path, digest.hexdigest(), original_name, source)
        finally:
            if tmp_path.exists():
                tmp_path.unlink()

    def remove_stale_parts(self, older_than_seconds: float = 3600.0) -> int:
        """Remove ``.part`` files a killed process left behind (a live writer's are younger)."""
        if not self._tmp.is_dir():
            return 0
        removed = 0
        cutoff = time.time() - older_than_seconds
        for path in self._tmp.glob("*.part"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except OSError:
                pass
        return removed

    def land_file(self, kind: str, path: Path, source: str) -> LandedFile:
        with open(path, "rb") as fh:
            return self.land_stream(kind, fh, path.name, source)

    def _commit(self, kind: str, tmp_path: Path, sha: str, original_name: str, source: str) -> LandedFile:
        folder = self.root / kind
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{sha}{_extension(original_name)}"
        meta_path = folder / f"{sha}.meta.json"
        existing = self._find(kind, sha)
        if existing is not None:
            return LandedFile(kind, sha, existing[0], existing[1]["original_name"], existing[1]["source"],
                              existing[1]["landed_at"], is_new=False)
        landed_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        meta = {"sha256": sha, "original_name": original_name, "source": source,
                "landed_at": landed_at, "file": final.name}
        # Data first, then the sidecar: a file without a sidecar is still found (and re-described).
        os.replace(tmp_path, final)
        write_text_atomically(meta_path, json.dumps(meta, sort_keys=True), self._tmp)
        return LandedFile(kind, sha, final, original_name, source, landed_at, is_new=True)

    # ----- reading -----------------------------------------------------------
    def _find(self, kind: str, sha: str) -> tuple[Path, dict] | None:
        folder = self.root / kind
        if not folder.is_dir():
            return None
        meta_path = folder / f"{sha}.meta.json"
        if meta_path.is_file():
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            path = folder / meta["file"]
            if path.is_file():
                return path, meta
        for candidate in folder.glob(f"{sha}.*"):
            if not candidate.name.endswith(".meta.json"):
                return candidate, {"original_name": candidate.name, "source": "unknown",
                                   "landed_at": "", "file": candidate.name}
        return None

    def contains(self, kind: str, sha: str) -> bool:
        return self._find(kind, sha) is not None

    def files(self, kind: str) -> Iterator[LandedFile]:
        """Every landed file of a kind, in sha256 order (deterministic whatever the arrival order)."""
        folder = self.root / kind
        if not folder.is_dir():
            return
        for path in sorted(folder.iterdir()):
            if path.name.endswith(".meta.json") or not path.is_file():
                continue
            sha = path.name.split(".", 1)[0]
            found = self._find(kind, sha)
            meta = found[1] if found else {}
            yield LandedFile(kind, sha, path, meta.get("original_name", path.name),
                             meta.get("source", "unknown"), meta.get("landed_at", ""), is_new=False)
