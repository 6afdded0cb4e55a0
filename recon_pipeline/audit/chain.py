"""The hash chain of the audit trail (CONTRACT.md §3 ``ops.audit_log``), as pure functions.

``record_hash`` is the SHA-256 of the previous record's hash and the record's canonical
content (sequence number, time, actor, action, subject, details as sorted compact JSON). Because
every hash covers its predecessor, editing a record breaks its own hash, deleting one breaks
the next record's ``prev_hash`` link, and swapping two breaks both: ``verify_chain`` names the
first record where the chain no longer holds.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    recorded_at: dt.datetime
    actor: str
    action: str
    subject: str
    details: str          # canonical JSON text, exactly as stored
    prev_hash: str
    record_hash: str


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"audit record {self.seq}: {self.reason}"


def canonical_details(details: dict[str, Any] | None) -> str:
    """Details as the one JSON text the hash covers: sorted keys, no spaces, non-JSON values as text."""
    return json.dumps(details or {}, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def _timestamp(value: dt.datetime) -> str:
    return value.replace(tzinfo=None).isoformat(timespec="microseconds")


def record_hash(prev_hash: str, seq: int, recorded_at: dt.datetime, actor: str, action: str,
                subject: str, details: str) -> str:
    content = json.dumps([seq, _timestamp(recorded_at), actor, action, subject, details],
                         separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


def verify_chain(records: Iterable[AuditRecord]) -> tuple[int, ChainBreak | None]:
    """Walk the records in ``seq`` order: (number of records, the first break or None)."""
    prev, expected_seq, count = GENESIS, 1, 0
    for rec in records:
        count += 1
        if rec.seq != expected_seq:
            return count, ChainBreak(rec.seq, f"expected sequence number {expected_seq} "
                                              f"(a record before it was removed or moved)")
        if rec.prev_hash != prev:
            return count, ChainBreak(rec.seq, "prev_hash does not match the record before it "
                                              "(a record was removed, inserted or reordered)")
        again = record_hash(rec.prev_hash, rec.seq, rec.recorded_at, rec.actor, rec.action, rec.subject,
                            rec.details)
        if again != rec.record_hash:
            return count, ChainBreak(rec.seq, "content does not match its record_hash (the record was edited)")
        prev, expected_seq = rec.record_hash, expected_seq + 1
    return count, None
