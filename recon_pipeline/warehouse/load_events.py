"""Landed event messages → ``raw.payment_events`` (or ``raw.quarantine_events``).

Every message is keyed by where it came from (Kafka topic/partition/offset, or snapshot
file sha256/line), so re-landed ranges and re-delivered files are loaded once. A snapshot
file is written in committed batches and marked loaded by its ``raw.event_files`` row, last;
a load killed half-way is undone and redone by the next run, so the result is all or nothing. Duplicate
*deliveries* of one event (same ``event_id`` at another offset) are kept here, as received,
and removed in staging: raw data stays a faithful record of what arrived.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from recon_pipeline.audit.pipeline_actions import audit_file_loaded, audit_quarantine
from recon_pipeline.events.kafka.land import iter_landed_messages
from recon_pipeline.events.model import EventMessage, EventRejected, extra_json, parse_event
from recon_pipeline.events.snapshot_files import SnapshotFileError, read_snapshot_file
from recon_pipeline.landing.zone import LandingZone
from recon_pipeline.one_line import one_line
from recon_pipeline.warehouse.connection import LOAD_MEMORY_LIMIT, Warehouse
from recon_pipeline.warehouse.raw_schema import ensure_raw_schema
from recon_pipeline.warehouse.value_checks import money_problem

_EVENT_COLUMNS = [
    "message_key", "event_id", "event_type", "occurred_at", "payment_id", "end_to_end_id", "batch_id",
    "amount", "currency", "direction", "account_iban", "counterparty_name", "counterparty_iban",
    "return_reason", "service", "extra_json", "origin", "source", "topic", "kafka_partition",
    "message_offset",
]
BATCH_ROWS = 10_000        # rows held before they are written ...
BATCH_BYTES = 32 * 1024 * 1024   # ... or this many message bytes (lines may be up to 8 MiB each)
MAX_REPORTED = 1_000       # (key, reason) pairs kept for the run's log; the counts are exact
_QUARANTINE_COLUMNS = ["message_key", "origin", "source", "topic", "kafka_partition", "message_offset",
                       "reason", "raw_value"]
_FILE_EVIDENCE_BYTES = 1024 * 1024   # a damaged/unloadable file's quarantine row keeps its head


@dataclass
class EventLoadResult:
    messages_seen: int = 0
    events_loaded: int = 0
    messages_quarantined: int = 0
    files_loaded: int = 0
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (message key, reason)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "messages_seen": self.messages_seen,
            "events_loaded": self.events_loaded,
            "messages_quarantined": self.messages_quarantined,
            "snapshot_files_loaded": self.files_loaded,
        }


def message_key(msg: EventMessage) -> str:
    if msg.origin == "kafka":
        return f"kafka:{msg.topic or msg.source}:{msg.partition}:{msg.offset}"
    return f"file:{msg.source}:{msg.offset}"


def load_event_messages(wh: Warehouse, messages: Iterable[EventMessage], result: EventLoadResult,
                        now: dt.datetime | None = None) -> tuple[int, int]:
    """Validate and insert messages not loaded before; returns (loaded, quarantined) of this batch.

    Rows are written every ``BATCH_ROWS`` messages (or ``BATCH_BYTES``), so a hostile file (a million bad lines
    in a 2 KB gzip) costs one batch of memory, not the whole file. Every message given is new
    (a snapshot file's keys are its sha256 and line numbers; Kafka's start past what is loaded).
    """
    now = now or dt.datetime.now(dt.UTC)
    events, quarantined = [], []
    loaded = bad = held_bytes = 0
    for msg in messages:
        result.messages_seen += 1
        key = message_key(msg)
        held_bytes += len(msg.value)
        try:
            ev = parse_event(msg.value, now=now)
            problem = money_problem(ev.amount)
            if problem:
                raise EventRejected(problem[:200])   # valid JSON, but it would not fit DECIMAL(20,5)
        except EventRejected as exc:
            quarantined.append((key, msg.origin, msg.source, msg.topic, msg.partition, msg.offset,
                                str(exc), msg.value))
            if len(result.quarantined) < MAX_REPORTED:
                result.quarantined.append((key, str(exc)))
        else:
            events.append((
                key, ev.event_id, ev.event_type, ev.occurred_at.astimezone(dt.UTC).replace(tzinfo=None),
                ev.payment_id, ev.end_to_end_id, ev.batch_id, ev.amount, ev.currency, ev.direction,
                ev.account_iban, ev.counterparty_name, ev.counterparty_iban, ev.return_reason, ev.service,
                extra_json(ev.extra) if ev.extra else None, msg.origin, msg.source, msg.topic, msg.partition,
                msg.offset,
            ))
        if len(events) + len(quarantined) >= BATCH_ROWS or held_bytes >= BATCH_BYTES:
            loaded += wh.bulk_insert("raw.payment_events", _EVENT_COLUMNS, events)
            bad += wh.bulk_insert("raw.quarantine_events", _QUARANTINE_COLUMNS, quarantined)
            events, quarantined, held_bytes = [], [], 0
    loaded += wh.bulk_insert("raw.payment_events", _EVENT_COLUMNS, events)
    bad += wh.bulk_insert("raw.quarantine_events", _QUARANTINE_COLUMNS, quarantined)
    result.events_loaded += loaded
    result.messages_quarantined += bad
    return loaded, bad


def _until_damaged(messages: Iterable[EventMessage], damage: list[str]) -> Iterator[EventMessage]:
    """Yield messages until the file turns out to be damaged (e.g. a truncated .gz); note why."""
    try:
        yield from messages
    except SnapshotFileError as exc:
        damage.append(one_line(exc))


def load_event_files(wh: Warehouse, landing: LandingZone) -> EventLoadResult:
    """Load snapshot files and landed Kafka ranges; each file/offset once, each file all or nothing."""
    ensure_raw_schema(wh)
    result = EventLoadResult()
    loaded_files = {r[0] for r in wh.fetchall("select source_sha256 from raw.event_files")}
    for landed in landing.files("events"):
        if landed.sha256 in loaded_files:
            continue
        file_result = EventLoadResult()
        damage: list[str] = []
        # Batches are committed as they are written (one transaction over a million-line file
        # would hold every row in memory); the raw.event_files row, written last, is what marks
        # the file loaded. A load cut short left batches without it: they are removed first.
        _forget_partial_load(wh, landed.sha256)
        try:
            with wh.memory_capped(LOAD_MEMORY_LIMIT):
                loaded, quarantined = load_event_messages(
                    wh, _until_damaged(read_snapshot_file(landed.path, landed.sha256), damage), file_result)
                with wh.transaction():
                    if damage:
                        # The lines before the damage are loaded; the file itself is kept as evidence.
                        quarantined += _quarantine_whole_file(wh, landed, "damaged", damage[0], file_result)
                    _record_event_file(wh, landed, file_result.messages_seen, loaded, quarantined)
                    audit_file_loaded(wh, "events", landed, messages=file_result.messages_seen, loaded=loaded,
                                      quarantined=quarantined)
                    if quarantined:
                        audit_quarantine(wh, "events", landed.sha256, f"{quarantined} message(s) quarantined",
                                         keys=[k for k, _ in file_result.quarantined][:100])
        except Exception as exc:  # noqa: BLE001 - the warehouse refused a row nobody foresaw
            # Quarantine the file as a file, named, and record it so it is never retried.
            first = (str(exc).strip().splitlines() or [""])[0]
            file_result = EventLoadResult()
            _forget_partial_load(wh, landed.sha256)
            with wh.transaction():
                loaded = 0
                quarantined = _quarantine_whole_file(
                    wh, landed, "unloadable",
                    f"could not be written to the warehouse ({type(exc).__name__}: {first})", file_result)
                _record_event_file(wh, landed, 0, 0, quarantined)
                audit_quarantine(wh, "events", landed.sha256, f"file could not be loaded: {first}",
                                 original_name=landed.original_name)
        result.messages_seen += file_result.messages_seen
        result.events_loaded += loaded
        result.messages_quarantined += quarantined
        result.quarantined.extend(file_result.quarantined[:MAX_REPORTED - len(result.quarantined)])
        result.files_loaded += 1

    # Kafka ranges may overlap; each partition loads in offset order in one transaction, so
    # everything at or below its highest loaded offset is in (one number per partition, not a
    # set of every key ever loaded).
    with wh.transaction():
        load_event_messages(wh, iter_landed_messages(landing.root, kafka_loaded_up_to(wh)), result)
    return result


def kafka_loaded_up_to(wh: Warehouse) -> dict[tuple[str, int], int]:
    """The highest offset loaded (as an event or quarantined) per Kafka topic and partition."""
    rows = wh.fetchall(
        "select topic, kafka_partition, max(message_offset) from ("
        " select topic, kafka_partition, message_offset from raw.payment_events where origin = 'kafka'"
        " union all"
        " select topic, kafka_partition, message_offset from raw.quarantine_events where origin = 'kafka'"
        ") loaded group by topic, kafka_partition")
    return {(topic, int(partition)): int(offset) for topic, partition, offset in rows}


def _forget_partial_load(wh: Warehouse, sha256: str) -> None:
    """Remove what an unfinished load of a snapshot file wrote (it has no raw.event_files row)."""
    with wh.transaction():
        wh.execute("delete from raw.payment_events where origin = 'file' and source = ?", (sha256,))
        wh.execute("delete from raw.quarantine_events where origin = 'file' and source = ?", (sha256,))


def _quarantine_whole_file(wh: Warehouse, landed, what: str, reason: str, file_result: EventLoadResult) -> int:
    """One quarantine row for the file itself (its bytes are in the landing zone under its sha256)."""
    key = f"file:{landed.sha256}:{what}"
    size = landed.path.stat().st_size
    with open(landed.path, "rb") as fh:
        head = fh.read(_FILE_EVIDENCE_BYTES)
    note = "" if size <= _FILE_EVIDENCE_BYTES else f" [first {_FILE_EVIDENCE_BYTES} of {size} bytes kept here]"
    reason = one_line(f"{landed.original_name}: {reason}", 280) + note
    wh.bulk_insert("raw.quarantine_events", _QUARANTINE_COLUMNS, [(
        key, "file", landed.sha256, None, None, None, reason, head)])
    file_result.quarantined.append((key, reason))
    return 1


def _record_event_file(wh: Warehouse, landed, messages: int, loaded: int, quarantined: int) -> None:
    wh.execute(
        "insert into raw.event_files (source_sha256, original_name, source, landed_at, messages, "
        "loaded, quarantined) values (?, ?, ?, ?, ?, ?, ?)",
        (landed.sha256, landed.original_name, landed.source, landed.landed_at, messages, loaded, quarantined))
