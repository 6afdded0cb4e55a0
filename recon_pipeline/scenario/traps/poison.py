"""Poison input: files and lines that are broken, and must be set aside, not half-loaded.

Kafka consumers see truncated messages and events from producers that skipped the schema;
upload folders see statement files cut off mid-transfer. Recon must quarantine each with a
reason and carry on with the rest; a loader that stops at the first bad line, or loads half a
statement, is caught here. Only with ``poison=True``: it is a trap for the ingestion, not for
the matching, and adds no payment to the answer key.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from recon_pipeline.scenario.config import CURRENCY, TOPIC


def poison_rows(day: dt.date, enveloped: bool) -> list[str]:
    """A line cut off mid-JSON, and a well-formed event missing most required fields."""
    stamp = f"{day.isoformat()}T10:00:00Z"
    not_json = ('{"event_id":"evt-poison-0001","event_type":"payment.sent","occurred_at":"'
                + stamp + '","payment_id":"PAY-POISON-1","amount":"12.5')
    incomplete = json.dumps({"event_id": "evt-poison-0002", "event_type": "payment.sent",
                             "occurred_at": stamp, "currency": CURRENCY}, separators=(",", ":"))
    if enveloped:
        incomplete = json.dumps({"topic": TOPIC, "partition": 0, "offset": 999999, "tstype": "create",
                                 "ts": 0, "key": None, "payload": incomplete}, separators=(",", ":"))
    return [not_json, incomplete]


def write_broken_statement(statements_dir: Path, start: dt.date, first_camt: bytes) -> int:
    """A camt upload cut off mid-transfer: must be quarantined, never half-loaded. Returns
    the number of poison statement files written."""
    cut = first_camt[: len(first_camt) * 3 // 5]
    cut = cut[: cut.rfind(b">") + 1]
    (statements_dir / f"broken_{start.isoformat()}.xml").write_bytes(cut)
    return 1
