"""Audit records of what the pipeline itself did: a file landed and loaded (with its sha256), a
Kafka offset range landed, input quarantined, a pay cycle built (with its run id and build
fingerprint). Each is one call at the place the action happens, so the hook stays one line
in code other people change; the record's shape lives here, once.
"""
from __future__ import annotations

from typing import Any

from recon_pipeline.audit.log import append_audit
from recon_pipeline.warehouse.connection import Warehouse

PIPELINE_ACTOR = "recon"


def audit_file_loaded(wh: Warehouse, kind: str, landed: Any, **counts: Any) -> None:
    """A landed file (statement or event snapshot) entered the raw tables."""
    append_audit(wh, PIPELINE_ACTOR, "file_landed", f"{kind}/{landed.sha256}", {
        "sha256": landed.sha256, "original_name": landed.original_name, "source": landed.source,
        "landed_at": landed.landed_at, **counts})


def audit_quarantine(wh: Warehouse, kind: str, subject: str, reason: str, **details: Any) -> None:
    """Input that could not be used was quarantined (with its bytes, in ``raw.quarantine_*``)."""
    append_audit(wh, PIPELINE_ACTOR, "quarantine", f"{kind}/{subject}", {"reason": reason, **details})


def audit_offsets_landed(wh: Warehouse, topic: str, partition: int, start: int, end: int,
                         run_id: str | None = None) -> None:
    """A Kafka offset range ``[start, end)`` is durably landed and recorded in the ledger."""
    append_audit(wh, PIPELINE_ACTOR, "offsets_landed", f"{topic}/{partition}/{start}-{end}", {
        "topic": topic, "partition": int(partition), "start_offset": int(start), "end_offset": int(end),
        "run_id": run_id})


def audit_cycle_built(wh: Warehouse, pay_cycle: str, run_id: str, fingerprint: str, how: str = "full") -> None:
    """A pay cycle's marts and close pack were (re)built by a Dagster run."""
    append_audit(wh, PIPELINE_ACTOR, "cycle_built", pay_cycle, {
        "run_id": run_id, "fingerprint": fingerprint, "build": how})
