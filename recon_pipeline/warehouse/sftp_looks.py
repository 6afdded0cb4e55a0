"""The last look at the bank's SFTP folder, kept in ``raw.sftp_looks`` for the next pull.

The stability rule needs two looks at a file with the same (size, mtime); the look also
remembers the sha256 of a file once its bytes have landed, so an unchanged file left on the
server (no ``archive_dir``) is not downloaded again. It lives in the warehouse beside
``raw.kafka_offset_ledger`` so every process that picks up — a sensor tick, ``recon run`` —
reads and writes the same looks (see ``sources.pickup`` for why there).

One row per remote file name and source (``sftp://user@host:port/dir``): pointing recon at
another server or folder starts with fresh looks instead of trusting ones taken elsewhere.
A pull replaces the looks of its source as a whole, so files that vanished drop out and the
table stays as small as the remote folder.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recon_pipeline.warehouse.connection import Warehouse
from recon_pipeline.warehouse.raw_schema import create_tables

LOOKS_TABLE = "raw.sftp_looks"
_COLUMNS = ["source", "remote_name", "size", "mtime", "since", "sha256"]


def ensure_looks_table(wh: Warehouse) -> None:
    """Create ``raw.sftp_looks`` if missing (safe to call on every pull)."""
    create_tables(wh, "raw", {LOOKS_TABLE: """
            source varchar not null,
            remote_name varchar not null,
            size bigint not null,
            mtime bigint not null,
            since double precision not null,
            sha256 varchar,
            primary key (source, remote_name)
    """})


def read_looks(wh: Warehouse, source: str) -> dict[str, dict[str, Any]]:
    """The looks of one source as ``pull_statements`` takes them (``{}`` before the first pull)."""
    if not wh.table_exists("raw", "sftp_looks"):
        return {}
    rows = wh.fetchall(f"select remote_name, size, mtime, since, sha256 from {LOOKS_TABLE} where source = ?",
                       (source,))
    looks: dict[str, dict[str, Any]] = {}
    for name, size, mtime, since, sha in rows:
        look: dict[str, Any] = {"size": int(size), "mtime": int(mtime), "since": float(since)}
        if sha:
            look["sha256"] = str(sha)
        looks[str(name)] = look
    return looks


def write_looks(wh: Warehouse, source: str, looks: Mapping[str, Mapping[str, Any]]) -> None:
    """Replace the looks of one source by ``looks`` (a pull's ``next_looks``), atomically."""
    ensure_looks_table(wh)
    rows = [(source, name, int(look["size"]), int(look["mtime"]), float(look["since"]), look.get("sha256"))
            for name, look in sorted(looks.items())]
    with wh.transaction():
        wh.execute(f"delete from {LOOKS_TABLE} where source = ?", (source,))
        if rows:   # a handful of rows: one per file in the bank's folder
            wh.executemany(f"insert into {LOOKS_TABLE} ({', '.join(_COLUMNS)}) values (?, ?, ?, ?, ?, ?)", rows)
