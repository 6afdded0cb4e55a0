"""The embedded default source: local inbox folders for statements and event snapshots.

Files are copied (never moved or deleted) into the content-addressed landing zone, so the
inbox can be re-scanned at any time and a re-delivered file, under any name, lands once.
A small index of (name, size, mtime) → sha256 avoids re-hashing unchanged files each scan.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from recon_pipeline.landing.zone import LandedFile, LandingZone

_EVENT_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".ndjson")


@dataclass
class InboxScan:
    landed: list[LandedFile] = field(default_factory=list)
    already_landed: list[str] = field(default_factory=list)

    @property
    def new_shas(self) -> list[str]:
        return [f.sha256 for f in self.landed]


def _visible_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
                  and not p.name.endswith((".part", ".tmp")))


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
    for path in _visible_files(folder):
        if kind == "events" and not path.name.lower().endswith(_EVENT_SUFFIXES):
            continue
        stat = path.stat()
        fingerprint = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        known_sha = index.get(fingerprint)
        if known_sha and landing.contains(kind, known_sha):
            scan.already_landed.append(path.name)
            continue
        landed = landing.land_file(kind, path, source=f"inbox:{folder}")
        index[fingerprint] = landed.sha256
        (scan.landed if landed.is_new else scan.already_landed).append(
            landed if landed.is_new else path.name)
    landing.root.mkdir(parents=True, exist_ok=True)
    tmp = index_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(index, sort_keys=True), encoding="utf-8")
    os.replace(tmp, index_path)
    return scan
