"""Landed event messages → ``raw.payment_events`` (or ``raw.quarantine_events``).

Every message is keyed by where it came from (Kafka topic/partition/offset, or snapshot
file sha256/line), so re-landed ranges and re-delivered files are loaded once. Duplicate
*deliveries* of one event (same ``event_id`` at another offset) are kept here, as received,
and removed in staging: raw data stays a faithful record of what arrived.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from recon_pipeline.audit.pipeline_actions import audit_file_loaded, audit_quarantine
from recon_pipeline.events.model import EventMessage, EventRejected, extra_json, parse_event
from recon_pipeline.landing.zone import LandingZone
from recon_pipeline.warehouse.connection import Warehouse
from recon_pipeline.warehouse.raw_schema import ensure_raw_schema

_EVENT_COLUMNS = [
    "message_key", "event_id", "event_type", "occurred_at", "payment_id", "end_to_end_id", "batch_id",
    "amount", "currency", "direction", "account_iban", "counterparty_name", "counterparty_iban",
    "return_reason", "service", "extra_json", "origin", "source", "topic", "kafka_partition",
    "message_offset",
]
_QUARANTINE_COLUMNS = ["message_key", "origin", "source", "topic", "kafka_partition", "message_offset",
                       "reason", "raw_value"]


@dataclass
class EventLoadResult:
    messages_seen: int = 0
    events_loaded: int = 0
    messages_quarantined: int = 0
    messages_already_loaded: int = 0
    files_loaded: int = 0
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (message key, reason)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "messages_seen": self.messages_seen,
            "events_loaded": self.events_loaded,
            "messages_quarantined": self.messages_quarantined,
            "messages_already_loaded": self.messages_already_loaded,
            "snapshot_files_loaded": self.files_loaded,
        }


def message_key(msg: EventMessage) -> str:
    if msg.origin == "kafka":
        return f"kafka:{msg.topic or msg.source}:{msg.partition}:{msg.offset}"
    return f"file:{msg.source}:{msg.offset}"


def load_event_messages(wh: Warehouse, messages: Iterable[EventMessage], result: EventLoadResult,
                        known_keys: set[str]) -> tuple[int, int]:
    """Validate and insert messages not loaded before; returns (loaded, quarantined) of this batch."""
    events, quarantined = [], []
    for msg in messages:
        result.messages_seen += 1
        key = message_key(msg)
        if key in known_keys:
            result.messages_already_loaded += 1
            continue
        known_keys.add(key)
        try:
            ev = parse_event(msg.value)
        except EventRejected as exc:
            quarantined.append((key, msg.origin, msg.source, msg.topic, msg.partition, msg.offset,
                                str(exc), msg.value))
            result.quarantined.append((key, str(exc)))
            continue
        events.append((
            key, ev.event_id, ev.event_type, ev.occurred_at.astimezone(dt.timezone.utc).replace(tzinfo=None),
            ev.payment_id, ev.end_to_end_id, ev.batch_id, ev.amount, ev.currency, ev.direction,
            ev.account_iban, ev.counterparty_name, ev.counterparty_iban, ev.return_reason, ev.service,
            extra_json(ev.extra) if ev.extra else None, msg.origin, msg.source, msg.topic, msg.partition,
            msg.offset,
        ))
    wh.bulk_insert("raw.payment_events", _EVENT_COLUMNS, events)
    wh.bulk_insert("raw.quarantine_events", _QUARANTINE_COLUMNS, quarantined)
    result.events_loaded += len(events)
    result.messages_quarantined += len(quarantined)
    return len(events), len(quarantined)


def _until_damaged(messages: Iterable[EventMessage], damage: list[str]) -> Iterator[EventMessage]:
    """Yield messages until the file turns out to be damaged (e.g. a truncated .gz); note why."""
    from recon_pipeline.events.snapshot_files import SnapshotFileError

    try:
        yield from messages
    except SnapshotFileError as exc:
        damage.append(" ".join(str(exc).split())[:300])


def load_event_files(wh: Warehouse, landing: LandingZone) -> EventLoadResult:
    """Load snapshot files and landed Kafka ranges; each file/offset once, each file in one transaction."""
    from recon_pipeline.events.offset_ledger import iter_landed_messages
    from recon_pipeline.events.snapshot_files import read_snapshot_file

    ensure_raw_schema(wh)
    result = EventLoadResult()
    loaded_files = {r[0] for r in wh.fetchall("select source_sha256 from raw.event_files")}
    for landed in landing.files("events"):
        if landed.sha256 in loaded_files:
            continue
        file_result = EventLoadResult()
        keys: set[str] = set()
        damage: list[str] = []
        with wh.transaction():
            loaded, quarantined = load_event_messages(
                wh, _until_damaged(read_snapshot_file(landed.path, landed.sha256), damage), file_result, keys)
            if damage:
                # The lines before the damage are loaded; the file itself is kept as evidence.
                wh.bulk_insert("raw.quarantine_events", _QUARANTINE_COLUMNS, [(
                    f"file:{landed.sha256}:damaged", "file", landed.sha256, None, None, None,
                    f"{landed.original_name}: {damage[0]}", landed.path.read_bytes())])
                file_result.quarantined.append((f"file:{landed.sha256}:damaged", damage[0]))
                quarantined += 1
            wh.execute(
                "insert into raw.event_files (source_sha256, original_name, source, landed_at, messages, "
                "loaded, quarantined) values (?, ?, ?, ?, ?, ?, ?)",
                (landed.sha256, landed.original_name, landed.source, landed.landed_at,
                 file_result.messages_seen, loaded, quarantined))
            audit_file_loaded(wh, "events", landed, messages=file_result.messages_seen, loaded=loaded, quarantined=quarantined)
            if quarantined: audit_quarantine(wh, "events", landed.sha256, f"{quarantined} message(s) quarantined", keys=[k for k, _ in file_result.quarantined][:100])  # noqa: E701
        result.messages_seen += file_result.messages_seen
        result.events_loaded += loaded
        result.messages_quarantined += quarantined
        result.quarantined.extend(file_result.quarantined)
        result.files_loaded += 1

    known = {r[0] for r in wh.fetchall("select message_key from raw.payment_events where origin = 'kafka'")}
    known |= {r[0] for r in wh.fetchall("select message_key from raw.quarantine_events where origin = 'kafka'")}
    with wh.transaction():
        load_event_messages(wh, iter_landed_messages(landing.root), result, known)
    return result
