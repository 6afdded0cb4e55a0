"""Bounded, replayable snapshots of the payment-event topics, landed exactly once.

Why snapshots and not a long-running consumer: reconciliation works on closed pay cycles, so
what matters is that every offset reaches the landing zone once and can be re-read forever,
not latency. A snapshot is a set of half-open offset ranges ``[from, to)``, one per
topic-partition: ``from`` is where the warehouse ledger says landing stopped, ``to`` is the
partition's end *at planning time*. Ranges are plain data, so a sensor can put them in run
tags and a run key (``kafka:<topic>:<p>:<from>-<to>|...``) and any process can land them
later with exactly the same result.

The order of effects (see ``offset_ledger`` for the crash analysis): read the range → write
``landing/events/kafka/<topic>/<p>/<from>-<to>.parquet`` atomically → record the range in
``raw.kafka_offset_ledger`` → commit the consumer group to ``to``. The group commit only
feeds lag dashboards; recon never reads it back.

Broker quirks this code is written around (tansu, the Kafka-protocol broker the tests run):

* ListOffsets answers are wrong for the latest offset (high watermark), so ``OFFSET_END``,
  ``get_watermark_offsets`` and ``offsets_for_times`` cannot be trusted. The end of a partition
  is found by consuming to a partition-EOF event (``enable.partition.eof``); the EOF event's
  offset is the end. The earliest offset (``OFFSET_BEGINNING``) does resolve correctly.
* Fetching at an offset beyond the end gets neither data, nor EOF, nor OFFSET_OUT_OF_RANGE:
  the fetch just stays empty. Every wait is therefore bounded by
  ``KafkaSettings.poll_timeout_seconds`` without progress, and then fails with a reason.
* It is memory-only: a restarted broker starts again at offset 0 with nothing in it, which
  looks exactly like the case above when the ledger remembers a larger end.

Planning has to read the new messages once to find the end, and landing reads them again:
the price of not trusting ListOffsets, paid only for messages not yet landed.
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from recon_pipeline.events.model import EventMessage
from recon_pipeline.events.offset_ledger import (  # noqa: F401  (iter_landed_messages re-exported)
    ensure_ledger,
    iter_landed_messages,
    range_file_path,
    record_range,
    recorded_end_or_none,
    recorded_ends,
)
from recon_pipeline.landing.zone import fsync_path
from recon_pipeline.settings import KafkaSettings, Settings
from recon_pipeline.warehouse.connection import Warehouse, open_warehouse

log = logging.getLogger(__name__)
_librdkafka_log = logging.getLogger("recon.kafka.librdkafka")
# librdkafka retries connection failures every few hundred ms; each try would otherwise be
# printed by Python's last-resort handler. Applications that configure logging still see them.
_librdkafka_log.addHandler(logging.NullHandler())

_POLL_SLICE = 0.2           # seconds per poll() so stalls and broker-down are noticed promptly
_WRITE_BATCH = 5_000        # rows per Parquet write (bounded memory however large the range)
FORMAT_VERSION = "1"


class KafkaUnavailable(RuntimeError):
    """No broker answers. ``str()`` is one line naming the bootstrap address and the cause."""


class KafkaSnapshotError(RuntimeError):
    """The broker answered, but the planned offsets cannot be read as planned (one-line reason)."""


# ----- plain data: ranges, plans, results ------------------------------------------------
@dataclass(frozen=True, order=True)
class OffsetRange:
    """Offsets ``start`` .. ``end - 1`` of one topic-partition."""

    topic: str
    partition: int
    start: int
    end: int

    @property
    def key(self) -> str:
        return f"kafka:{self.topic}:{self.partition}:{self.start}-{self.end}"

    @property
    def size(self) -> int:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "partition": self.partition, "start": self.start, "end": self.end}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "OffsetRange":
        return cls(str(data["topic"]), int(data["partition"]), int(data["start"]), int(data["end"]))


def ranges_to_json(ranges: Iterable[OffsetRange]) -> str:
    """Canonical JSON of ranges (sorted, compact), e.g. for the ``recon/kafka_ranges`` run tag."""
    return json.dumps([r.to_dict() for r in sorted(ranges)], separators=(",", ":"), sort_keys=True)


def ranges_from_json(text: str | Sequence[Mapping[str, Any]]) -> list[OffsetRange]:
    data = json.loads(text) if isinstance(text, str) else text
    return sorted(OffsetRange.from_dict(d) for d in data)


def partition_key(topic: str, partition: int) -> str:
    """``topic:partition`` (Kafka topic names cannot contain ':'), the JSON key of ``ends``."""
    return f"{topic}:{int(partition)}"


def parse_partition_key(key: str) -> tuple[str, int]:
    topic, _, partition = key.rpartition(":")
    return topic, int(partition)


@dataclass(frozen=True)
class SnapshotPlan:
    """What to read next. ``ends`` holds every partition's end, new data or not (sensor cursor)."""

    ranges: tuple[OffsetRange, ...]
    ends: Mapping[str, int] = field(default_factory=dict)
    missing_topics: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """Deterministic run key: the same ranges always give the same id ('' when empty)."""
        return "|".join(r.key for r in sorted(self.ranges))

    @property
    def run_key(self) -> str:
        return self.id

    @property
    def is_empty(self) -> bool:
        return not self.ranges

    @property
    def message_count(self) -> int:
        return sum(r.size for r in self.ranges)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ranges": [r.to_dict() for r in sorted(self.ranges)],
                "ends": dict(sorted(self.ends.items())), "missing_topics": list(self.missing_topics)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SnapshotPlan":
        return cls(tuple(ranges_from_json(data.get("ranges", []))),
                   {str(k): int(v) for k, v in (data.get("ends") or {}).items()},
                   tuple(data.get("missing_topics") or ()))

    @classmethod
    def from_json(cls, text: str) -> "SnapshotPlan":
        return cls.from_dict(json.loads(text))


@dataclass(frozen=True)
class LandedRange:
    range: OffsetRange
    path: Path
    messages: int
    recorded: bool = False        # True when this call added the ledger row
    reused_file: bool = False     # the same range had already landed (an interrupted earlier run)


@dataclass(frozen=True)
class SnapshotResult:
    plan_id: str
    landed: tuple[LandedRange, ...] = ()
    skipped: tuple[OffsetRange, ...] = ()      # already covered by the ledger when we got to them
    missing_topics: tuple[str, ...] = ()
    commit_errors: tuple[str, ...] = ()        # group commits are advisory; failures are reported

    @property
    def messages(self) -> int:
        return sum(r.messages for r in self.landed)

    @property
    def ranges(self) -> tuple[OffsetRange, ...]:
        return tuple(r.range for r in self.landed)

    def to_metadata(self) -> dict[str, Any]:
        """Flat, JSON-able summary for Dagster metadata and CLI output."""
        return {"plan_id": self.plan_id, "messages_landed": self.messages,
                "ranges_landed": [r.range.key for r in self.landed],
                "ranges_skipped": [r.key for r in self.skipped],
                "files": [str(r.path) for r in self.landed],
                "missing_topics": list(self.missing_topics),
                "commit_errors": list(self.commit_errors)}


# ----- client plumbing --------------------------------------------------------------------
class _ClientState:
    """What ``error_cb`` has told us; librdkafka reports broker trouble only through it."""

    def __init__(self) -> None:
        self.all_brokers_down = False
        self.fatal: str | None = None
        self.last_error: str | None = None

    def on_error(self, err: Any) -> None:
        from confluent_kafka import KafkaError

        code = err.code()
        if code == KafkaError._ALL_BROKERS_DOWN:
            self.all_brokers_down = True
        else:
            self.last_error = _one_line(err.str())
        if err.fatal():
            self.fatal = _one_line(err.str())

    def progressed(self) -> None:
        self.all_brokers_down = False


_BROKER_PREFIX = re.compile(r"^\S+/\S+: ")           # "127.0.0.1:9092/bootstrap: "
_STATE_SUFFIX = re.compile(r"\s*\(after \d+ms in state \w+\)")
_SUPPRESSED = re.compile(r"(:\s*)?\d+ identical error\(s\) suppressed\s*$")


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    text = _BROKER_PREFIX.sub("", text)
    text = _STATE_SUFFIX.sub("", text)
    return _SUPPRESSED.sub("", text).strip().rstrip(",") or "unknown error"


def _client_config(ks: KafkaSettings, state: _ClientState) -> dict[str, Any]:
    timeout_ms = int(min(max(ks.poll_timeout_seconds, 1.0), 60.0) * 1000)
    conf: dict[str, Any] = {
        "bootstrap.servers": ks.bootstrap,
        "client.id": "recon",
        "socket.timeout.ms": timeout_ms,
        "socket.connection.setup.timeout.ms": timeout_ms,
        "reconnect.backoff.ms": 100,
        "reconnect.backoff.max.ms": 2000,
        "fetch.wait.max.ms": 100,        # EOF is detected on an empty fetch: don't wait long for one
    }
    conf.update(ks.client_config)        # SASL/SSL and tuning from recon.yaml
    conf["error_cb"] = state.on_error
    conf["logger"] = _librdkafka_log      # not librdkafka's stderr spam
    return conf


def _consumer_config(ks: KafkaSettings, state: _ClientState) -> dict[str, Any]:
    conf = _client_config(ks, state)
    # Not overridable: these are what make a snapshot exact and side-effect free.
    conf.update({
        "group.id": ks.group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "error",    # a vanished offset is an error, never a silent skip
    })
    return conf


def _new_consumer(ks: KafkaSettings) -> tuple[Any, _ClientState]:
    from confluent_kafka import Consumer

    state = _ClientState()
    return Consumer(_consumer_config(ks, state)), state


def _unreachable(ks: KafkaSettings, reason: str) -> KafkaUnavailable:
    return KafkaUnavailable(f"Kafka broker at {ks.bootstrap} is unreachable: {_one_line(reason)}")


def _connect(consumer: Any, ks: KafkaSettings, state: _ClientState) -> Any:
    """Cluster metadata, or ``KafkaUnavailable`` as soon as librdkafka says all brokers are down."""
    from confluent_kafka import KafkaException

    deadline = time.monotonic() + max(ks.poll_timeout_seconds, 1.0)
    last = "no answer"
    while True:
        remaining = deadline - time.monotonic()
        try:
            return consumer.list_topics(timeout=max(0.05, min(0.5, remaining)))
        except KafkaException as exc:
            last = exc.args[0].str() if exc.args and hasattr(exc.args[0], "str") else str(exc)
        consumer.poll(0)                 # serves error_cb
        if state.fatal:
            raise _unreachable(ks, state.fatal)
        if state.all_brokers_down:
            raise _unreachable(ks, state.last_error or last)
        if time.monotonic() >= deadline:
            raise _unreachable(ks, f"no answer within {ks.poll_timeout_seconds:g}s ({state.last_error or last})")


def _stalled(ks: KafkaSettings, state: _ClientState, what: str) -> Exception:
    if state.fatal or state.all_brokers_down:
        return _unreachable(ks, state.fatal or state.last_error or "all brokers are down")
    return KafkaSnapshotError(
        f"{what}: no progress within {ks.poll_timeout_seconds:g}s; if the broker is up, the recorded "
        f"offset may lie beyond the partition's end (topic re-created or broker data lost)")


def _partition_error(ks: KafkaSettings, state: _ClientState, msg: Any) -> Exception | None:
    """Turn an error event into an exception, or None for the transient ones librdkafka retries."""
    from confluent_kafka import KafkaError

    err = msg.error()
    code = err.code()
    where = f"{msg.topic()}/{msg.partition()}" if msg.topic() else "consumer"
    if err.fatal():
        return _unreachable(ks, err.str())
    if code in (KafkaError._AUTO_OFFSET_RESET, KafkaError.OFFSET_OUT_OF_RANGE):
        return KafkaSnapshotError(
            f"{where}: the planned offset is no longer on the broker ({_one_line(err.str())}); "
            f"retention deleted messages before recon landed them, or the topic was re-created")
    if code in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_PARTITION, KafkaError._UNKNOWN_TOPIC,
                KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED):
        return KafkaSnapshotError(f"{where}: {_one_line(err.str())}")
    log.warning("Kafka consumer error on %s (retrying): %s", where, _one_line(err.str()))
    return None


def _ledger_ends(ledger: Any) -> dict[tuple[str, int], int]:
    if ledger is None:
        return {}
    if isinstance(ledger, Warehouse):
        return recorded_ends(ledger)
    ends: dict[tuple[str, int], int] = {}
    for k, v in dict(ledger).items():
        topic, partition = parse_partition_key(k) if isinstance(k, str) else (str(k[0]), int(k[1]))
        ends[(topic, partition)] = int(v)
    return ends


# ----- planning -----------------------------------------------------------------------------
def plan_snapshot(settings: KafkaSettings, ledger: Warehouse | Mapping[Any, int] | None) -> SnapshotPlan:
    """The ranges to land next: from the ledger's end (or the earliest offset) to the current end.

    ``ledger`` is the warehouse (reads ``raw.kafka_offset_ledger``) or a mapping of
    ``(topic, partition)`` / ``"topic:partition"`` to the next offset to read (a sensor
    cursor). The end of each partition is the offset of its partition-EOF event.
    """
    starts_known = _ledger_ends(ledger)
    consumer, state = _new_consumer(settings)
    try:
        metadata = _connect(consumer, settings, state)
        partitions: list[tuple[str, int]] = []
        missing: list[str] = []
        for topic in settings.topics:
            tmd = metadata.topics.get(topic)
            if tmd is None or not tmd.partitions:
                missing.append(topic)
                log.warning("Kafka topic %s does not exist on %s; nothing to snapshot from it",
                            topic, settings.bootstrap)
                continue
            partitions.extend((topic, p) for p in sorted(tmd.partitions))
        if not partitions:
            return SnapshotPlan((), {}, tuple(missing))
        ends, first_seen = _consume_to_eof(consumer, state, settings, partitions, starts_known)
    finally:
        consumer.close()

    ranges = []
    for tp in partitions:
        end = ends[tp]
        start = starts_known.get(tp, first_seen.get(tp, end))
        if end < start:
            raise KafkaSnapshotError(
                f"{tp[0]}/{tp[1]} ends at offset {end} but offsets up to {start} were already landed; "
                f"the topic was re-created or the broker lost its data")
        if end > start:
            ranges.append(OffsetRange(tp[0], tp[1], start, end))
    return SnapshotPlan(tuple(sorted(ranges)), {partition_key(*tp): ends[tp] for tp in partitions},
                        tuple(missing))


def _consume_to_eof(consumer: Any, state: _ClientState, ks: KafkaSettings,
                    partitions: list[tuple[str, int]],
                    starts: Mapping[tuple[str, int], int]) -> tuple[dict, dict]:
    from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition

    consumer.assign([TopicPartition(t, p, starts.get((t, p), OFFSET_BEGINNING)) for t, p in partitions])
    ends: dict[tuple[str, int], int] = {}
    first_seen: dict[tuple[str, int], int] = {}
    last_progress = time.monotonic()
    while len(ends) < len(partitions):
        msg = consumer.poll(_POLL_SLICE)
        now = time.monotonic()
        if msg is None:
            if now - last_progress > ks.poll_timeout_seconds:
                pending = ", ".join(f"{t}/{p}" for t, p in partitions if (t, p) not in ends)
                raise _stalled(ks, state, f"finding the end of {pending}")
            continue
        tp = (msg.topic(), msg.partition())
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                if tp not in ends:
                    ends[tp] = msg.offset()
                    consumer.pause([TopicPartition(tp[0], tp[1])])
                state.progressed()
                last_progress = now
                continue
            exc = _partition_error(ks, state, msg)
            if exc is not None:
                raise exc
            continue
        state.progressed()
        last_progress = now
        if tp not in ends:
            first_seen.setdefault(tp, msg.offset())
    return ends, first_seen


# ----- reading and landing one range ------------------------------------------------------
def earliest_offset(settings: KafkaSettings, topic: str, partition: int) -> int:
    """The partition's low watermark, as the offset of its first message (or of EOF if empty).

    ``OFFSET_BEGINNING`` resolves correctly even on tansu; only the latest offset does not.
    """
    from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition

    consumer, state = _new_consumer(settings)
    try:
        _connect(consumer, settings, state)
        consumer.assign([TopicPartition(topic, int(partition), OFFSET_BEGINNING)])
        last_progress = time.monotonic()
        while True:
            msg = consumer.poll(_POLL_SLICE)
            if msg is None:
                if time.monotonic() - last_progress > settings.poll_timeout_seconds:
                    raise _stalled(settings, state, f"finding the earliest offset of {topic}/{partition}")
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    return msg.offset()
                exc = _partition_error(settings, state, msg)
                if exc is not None:
                    raise exc
                continue
            return msg.offset()
    finally:
        consumer.close()


def read_range(settings: KafkaSettings, topic: str, partition: int, start: int, end: int) -> Iterator[EventMessage]:
    """Exactly the messages at offsets ``start`` .. ``end - 1`` of one partition, in order.

    Stops at ``end`` even when more messages exist; offsets missing inside the range
    (compaction, transaction markers) are simply absent. Fails if the partition ends before
    ``end`` — the plan promised offsets the broker no longer has.
    """
    if end <= start:
        return
    from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, KafkaError, TopicPartition

    consumer, state = _new_consumer(settings)
    try:
        _connect(consumer, settings, state)
        consumer.assign([TopicPartition(topic, int(partition), int(start))])
        expected = start
        last_progress = time.monotonic()
        while True:
            msg = consumer.poll(_POLL_SLICE)
            now = time.monotonic()
            if msg is None:
                if now - last_progress > settings.poll_timeout_seconds:
                    raise _stalled(settings, state, f"reading {topic}/{partition} at offset {expected}")
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    if msg.offset() >= end:
                        return
                    raise KafkaSnapshotError(
                        f"{topic}/{partition} ends at offset {msg.offset()}, before the planned end {end}; "
                        f"the broker lost messages or the topic was re-created")
                exc = _partition_error(settings, state, msg)
                if exc is not None:
                    raise exc
                continue
            state.progressed()
            last_progress = now
            offset = msg.offset()
            if offset < expected:
                continue                 # already delivered (defensive: never emit an offset twice)
            if offset >= end:
                return
            ts_type, ts = msg.timestamp()
            yield EventMessage(
                value=msg.value() if msg.value() is not None else b"",
                origin="kafka",
                source=topic,
                partition=int(partition),
                offset=offset,
                key=msg.key(),
                timestamp_ms=None if ts_type == TIMESTAMP_NOT_AVAILABLE or ts is None or ts < 0 else int(ts),
                topic=topic,
            )
            expected = offset + 1
            if expected >= end:
                return
    finally:
        consumer.close()


def _parquet_schema(rng: OffsetRange):
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("topic", pa.string(), nullable=False),
            pa.field("partition", pa.int32(), nullable=False),
            pa.field("offset", pa.int64(), nullable=False),
            pa.field("key", pa.binary()),
            pa.field("timestamp_ms", pa.int64()),
            pa.field("value", pa.binary()),
        ],
        metadata={"recon.format": FORMAT_VERSION, "recon.topic": rng.topic,
                  "recon.partition": str(rng.partition), "recon.start": str(rng.start),
                  "recon.end": str(rng.end)},
    )


def _existing_rows(path: Path, rng: OffsetRange) -> int | None:
    """Row count of a complete file already landed for exactly this range, else None."""
    import pyarrow.parquet as pq

    if not path.is_file():
        return None
    try:
        meta = pq.read_metadata(path)
        kv = {k.decode(): v.decode() for k, v in (meta.metadata or {}).items()}
    except Exception as exc:  # unreadable: land it again over the top
        log.warning("landed file %s is unreadable (%s); landing the range again", path, exc)
        return None
    if (kv.get("recon.topic"), kv.get("recon.partition"), kv.get("recon.start"), kv.get("recon.end")) != (
            rng.topic, str(rng.partition), str(rng.start), str(rng.end)):
        return None
    return meta.num_rows


def land_range(settings: Settings, rng: OffsetRange,
               messages: Iterable[EventMessage] | None = None) -> LandedRange:
    """Write one range to its deterministic Parquet path; a range landed before is not re-read.

    The file appears under its final name only when complete and fsynced, so a reader (or
    the ledger) never sees half a range. ``messages`` defaults to ``read_range`` on the
    configured broker.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = range_file_path(settings.landing_dir, rng.topic, rng.partition, rng.start, rng.end)
    rows = _existing_rows(path, rng)
    if rows is not None:
        return LandedRange(rng, path, rows, reused_file=True)
    if messages is None:
        if settings.kafka is None:
            raise KafkaSnapshotError("Kafka is not configured (set RECON_KAFKA_BOOTSTRAP)")
        messages = read_range(settings.kafka, rng.topic, rng.partition, rng.start, rng.end)

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.part"
    schema = _parquet_schema(rng)
    count = 0
    previous = rng.start - 1
    try:
        writer = pq.ParquetWriter(tmp, schema, compression="zstd")
        try:
            buf: dict[str, list] = {name: [] for name in schema.names}
            for m in messages:
                if m.offset is None or not (previous < m.offset < rng.end):
                    raise KafkaSnapshotError(
                        f"{rng.topic}/{rng.partition}: offset {m.offset} out of order or outside {rng.start}-{rng.end}")
                previous = m.offset
                buf["topic"].append(rng.topic)
                buf["partition"].append(rng.partition)
                buf["offset"].append(m.offset)
                buf["key"].append(m.key)
                buf["timestamp_ms"].append(m.timestamp_ms)
                buf["value"].append(m.value)
                count += 1
                if len(buf["offset"]) >= _WRITE_BATCH:
                    writer.write_table(pa.table(buf, schema=schema))
                    buf = {name: [] for name in schema.names}
            if buf["offset"] or count == 0:
                writer.write_table(pa.table(buf, schema=schema))
        finally:
            writer.close()
        fsync_path(tmp)
        os.replace(tmp, path)
        fsync_path(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()
    return LandedRange(rng, path, count)


# ----- committing (advisory) ----------------------------------------------------------------
class _GroupCommitter:
    """Commits the group to each recorded end, for lag monitoring only; failures never fail a run."""

    def __init__(self, ks: KafkaSettings):
        self._ks = ks
        self._consumer = None
        self.errors: list[str] = []

    def commit(self, topic: str, partition: int, end: int) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        try:
            if self._consumer is None:
                self._consumer, _ = _new_consumer(self._ks)
            self._consumer.commit(offsets=[TopicPartition(topic, int(partition), int(end))], asynchronous=False)
        except KafkaException as exc:
            reason = f"commit of {topic}/{partition} at {end} failed: {_one_line(str(exc))}"
            log.warning("%s (the ledger is unaffected)", reason)
            self.errors.append(reason)

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None


# ----- the entry points -------------------------------------------------------------------
def land_planned_ranges(settings: Settings, ranges: Iterable[OffsetRange | Mapping[str, Any]], *,
                        run_id: str | None = None, warehouse: Warehouse | None = None,
                        plan_id: str | None = None) -> SnapshotResult:
    """Land, record and commit exactly these ranges (e.g. from a sensor's run tags), in order.

    Each range is first reconciled with the ledger as it is *now*: a range already covered is
    skipped, and one that starts after (or before) the recorded end is read from the recorded
    end instead, so a failed or overtaken earlier run can neither leave a gap nor land twice.
    """
    if settings.kafka is None:
        raise KafkaSnapshotError("Kafka is not configured (set RECON_KAFKA_BOOTSTRAP)")
    wanted = sorted(r if isinstance(r, OffsetRange) else OffsetRange.from_dict(r) for r in ranges)
    if plan_id is None:
        plan_id = SnapshotPlan(tuple(wanted)).id
    wh = warehouse if warehouse is not None else open_warehouse(settings)
    committer = _GroupCommitter(settings.kafka)
    landed: list[LandedRange] = []
    skipped: list[OffsetRange] = []
    try:
        ensure_ledger(wh)
        for rng in wanted:
            current = recorded_end_or_none(wh, rng.topic, rng.partition)
            if current is not None and rng.end <= current:
                skipped.append(rng)
                continue
            if current is None:
                # Never landed: the planned start was the earliest offset when planned, or it is
                # a later request whose predecessor never ran. Start at the earliest offset.
                current = min(rng.start, earliest_offset(settings.kafka, rng.topic, rng.partition))
            effective = rng if current == rng.start else OffsetRange(rng.topic, rng.partition, current, rng.end)
            result = land_range(settings, effective)
            recorded = record_range(wh, effective.topic, effective.partition, effective.start, effective.end,
                                    result.path, run_id=run_id)
            landed.append(LandedRange(effective, result.path, result.messages, recorded, result.reused_file))
            log.info("landed %s (%d messages) at %s", effective.key, result.messages, result.path)
            committer.commit(effective.topic, effective.partition, effective.end)
    finally:
        committer.close()
        if warehouse is None:
            wh.close()
    return SnapshotResult(plan_id, tuple(landed), tuple(skipped), (), tuple(committer.errors))


def snapshot_topics(settings: Settings, *, run_id: str | None = None,
                    warehouse: Warehouse | None = None) -> SnapshotResult:
    """Land everything new on the configured topics: plan from the ledger, then land each range.

    A broker that does not answer raises ``KafkaUnavailable`` before anything is written.
    With no Kafka configured this is a no-op (events then come from snapshot files).
    """
    if settings.kafka is None:
        return SnapshotResult("")
    wh = warehouse if warehouse is not None else open_warehouse(settings)
    try:
        plan = plan_snapshot(settings.kafka, wh)
        if plan.is_empty:
            return SnapshotResult("", missing_topics=plan.missing_topics)
        result = land_planned_ranges(settings, plan.ranges, run_id=run_id, warehouse=wh, plan_id=plan.id)
        return SnapshotResult(result.plan_id, result.landed, result.skipped, plan.missing_topics,
                              result.commit_errors)
    finally:
        if warehouse is None:
            wh.close()


def read_ledger_ends(settings: Settings) -> dict[tuple[str, int], int]:
    """Recorded ends without taking the DuckDB write lock (empty if there is no warehouse yet)."""
    if not settings.uses_postgres and not settings.duckdb_path.exists():
        return {}
    with open_warehouse(settings, read_only=not settings.uses_postgres) as wh:
        return recorded_ends(wh)
