"""Appending to ``ops.audit_log`` without ever forking the chain, and a spool for readers.

Two writers must never both extend the same last record. On Postgres the append takes an
exclusive table lock inside its transaction; on DuckDB one process writes the file at a time
and the ``seq`` primary key refuses a second record with the same number, so a racing append
fails and is retried on the new tail instead of forking.

A process that may not write the warehouse now (the portal, while a DuckDB build holds the
single writer lock) calls ``spool_audit``: the record is written atomically as a file under
``$RECON_HOME/audit/spool`` and the next writer appends it (``drain_spool``), in the order it
was spooled, with the time it happened kept in its details. Nothing is lost in between: a
spooled file is removed only after its record is committed, and a record whose spool id is
already in the log is not appended twice.
"""
from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from recon_pipeline.atomic_files import write_text_atomically
from recon_pipeline.audit.chain import GENESIS, AuditRecord, canonical_details, record_hash
from recon_pipeline.warehouse.connection import Warehouse

AUDIT_DDL = """
    seq bigint primary key,
    recorded_at timestamp not null,
    actor varchar not null,
    action varchar not null,
    subject varchar not null,
    details varchar not null,
    prev_hash varchar not null,
    record_hash varchar not null
"""
_RETRIES = 5


def ensure_audit_table(wh: Warehouse) -> None:
    """Create the table once. Two first writers racing on Postgres both run ``create ... if not
    exists`` and one loses on the catalogue, so the first creation is serialised (``catalogue_change``)."""
    if wh.table_exists("ops", "audit_log"):
        return
    with wh.catalogue_change():
        wh.execute("create schema if not exists ops")
        wh.execute(f"create table if not exists ops.audit_log ({AUDIT_DDL})")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def append_audit(wh: Warehouse, actor: str, action: str, subject: str,
                 details: dict[str, Any] | None = None, recorded_at: dt.datetime | None = None) -> AuditRecord:
    """Append one record at the tail of the chain and return it (committed when this returns,
    unless the caller holds an open ``wh.transaction()``, whose commit then covers it)."""
    ensure_audit_table(wh)
    last_error: Exception | None = None
    for attempt in range(_RETRIES):
        try:
            with wh.transaction():
                if wh.kind == "postgres":
                    wh.execute("lock table ops.audit_log in exclusive mode")
                return _append_locked(wh, actor, action, subject, details, recorded_at)
        except Exception as exc:  # a racing writer took the same seq: retry on the new tail
            if "audit_log" not in str(exc) and "primary key" not in str(exc).lower() \
                    and "conflict" not in str(exc).lower():
                raise
            last_error = exc
            time.sleep(0.05 * (attempt + 1))
    raise RuntimeError(f"could not append to ops.audit_log after {_RETRIES} attempts: {last_error}")


def _append_locked(wh: Warehouse, actor: str, action: str, subject: str,
                   details: dict[str, Any] | None, recorded_at: dt.datetime | None) -> AuditRecord:
    tail = wh.fetchone("select seq, record_hash from ops.audit_log order by seq desc limit 1")
    seq, prev = (int(tail[0]) + 1, tail[1]) if tail else (1, GENESIS)
    at = (recorded_at or _now()).replace(tzinfo=None)
    text = canonical_details(details)
    digest = record_hash(prev, seq, at, actor, action, subject, text)
    wh.execute("insert into ops.audit_log (seq, recorded_at, actor, action, subject, details, prev_hash, "
               "record_hash) values (?, ?, ?, ?, ?, ?, ?, ?)", (seq, at, actor, action, subject, text, prev, digest))
    return AuditRecord(seq, at, actor, action, subject, text, prev, digest)


def read_audit_log(wh: Warehouse) -> Iterator[AuditRecord]:
    """Every record in ``seq`` order (an empty trail when the table does not exist yet)."""
    if not wh.table_exists("ops", "audit_log"):
        return iter(())
    rows = wh.fetchall("select seq, recorded_at, actor, action, subject, details, prev_hash, record_hash "
                       "from ops.audit_log order by seq")
    return (AuditRecord(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows)


def spool_dir(home: Path) -> Path:
    return home / "audit" / "spool"


def spool_audit(home: Path, actor: str, action: str, subject: str, details: dict[str, Any] | None = None) -> Path:
    """Queue a record for the next writer (atomic: a reader never sees half a file)."""
    folder = spool_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    spool_id = f"{time.time_ns():020d}-{uuid.uuid4().hex[:12]}"
    payload = {"actor": actor, "action": action, "subject": subject,
               "details": {**(details or {}), "spool_id": spool_id, "occurred_at": _now().isoformat()}}
    final = folder / f"{spool_id}.json"
    write_text_atomically(final, json.dumps(payload, sort_keys=True))
    return final


def drain_spool(wh: Warehouse, home: Path) -> int:
    """Append every spooled record in spool order; returns how many were appended."""
    folder = spool_dir(home)
    if not folder.is_dir():
        return 0
    appended = 0
    for path in sorted(folder.glob("*.json")):
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # being written by a crashed process: left for a human, never guessed at
        spool_id = payload["details"].get("spool_id", path.stem)
        ensure_audit_table(wh)
        seen = wh.fetchone("select count(*) from ops.audit_log where details like ?",
                           (f'%"spool_id":"{spool_id}"%',))
        if not (seen and seen[0]):
            append_audit(wh, payload["actor"], payload["action"], payload["subject"], payload["details"])
            appended += 1
        path.unlink(missing_ok=True)
    return appended
