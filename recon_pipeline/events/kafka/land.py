"""A range of offsets as a file in the landing zone, and every landed range read back once.

``landing/events/kafka/<topic>/<p>/<from>-<to>.parquet``: the same range always lands on the
same path, and a file appears under its final name only when complete and fsynced (temporary
name, fsync, atomic rename), so neither a reader nor the offsets ledger ever sees half a range.
Landed files are never edited or deleted.

A crash between landing a file and recording it in the ledger leaves a landed but unrecorded
file; the next plan starts from the ledger's end again and may land a longer range from the
same start (``0-12`` beside the orphaned ``0-10``). Nothing is lost, and nothing is duplicated
for readers that dedup by (topic, partition, offset) — the rule for everything downstream,
which ``iter_landed_messages`` applies.
"""
from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from recon_pipeline.atomic_files import fsync_path
from recon_pipeline.events.kafka.client import KafkaSnapshotError
from recon_pipeline.events.kafka.plan import OffsetRange
from recon_pipeline.events.kafka.read import read_range
from recon_pipeline.events.model import EventMessage
from recon_pipeline.settings import Settings

log = logging.getLogger(__name__)

KAFKA_LANDING_SUBDIR = ("events", "kafka")
FORMAT_VERSION = "1"
_WRITE_BATCH = 5_000        # rows per Parquet write (bounded memory however large the range)
_RANGE_FILE = re.compile(r"^(\d+)-(\d+)\.parquet$")


@dataclass(frozen=True)
class LandedRange:
    range: OffsetRange
    path: Path
    messages: int
    recorded: bool = False        # True when this call added the ledger row
    reused_file: bool = False     # the same range had already landed (an interrupted earlier run)


def kafka_landing_root(landing_dir: Path) -> Path:
    return Path(landing_dir).joinpath(*KAFKA_LANDING_SUBDIR)


def range_file_path(landing_dir: Path, topic: str, partition: int, start: int, end: int) -> Path:
    """The deterministic home of a landed range: the same range always lands on the same path."""
    return kafka_landing_root(landing_dir) / topic / str(int(partition)) / f"{int(start)}-{int(end)}.parquet"


# ----- writing --------------------------------------------------------------------------------
def _parquet_schema(rng: OffsetRange):
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

    ``messages`` defaults to ``read_range`` on the configured broker.
    """
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


# ----- reading back -----------------------------------------------------------------------------
def landed_range_files(landing_dir: Path) -> Iterator[tuple[str, int, int, int, Path]]:
    """(topic, partition, start, end, path) of every complete landed file, in reading order.

    Per partition, files come by start ascending and, for the same start, the longest first,
    so a crash-orphaned ``0-10`` is fully shadowed by its successor ``0-12``. Temporary files
    (hidden ``.part`` names) are never listed.
    """
    root = kafka_landing_root(landing_dir)
    if not root.is_dir():
        return
    for topic_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        partitions = [p for p in topic_dir.iterdir() if p.is_dir() and p.name.isdigit()]
        for part_dir in sorted(partitions, key=lambda p: int(p.name)):
            ranges = []
            for f in part_dir.iterdir():
                m = _RANGE_FILE.match(f.name)
                if m and f.is_file():
                    ranges.append((int(m.group(1)), int(m.group(2)), f))
            for start, end, f in sorted(ranges, key=lambda r: (r[0], -r[1])):
                yield topic_dir.name, int(part_dir.name), start, end, f


def iter_landed_messages(landing_dir: Path,
                         loaded_up_to: Mapping[tuple[str, int], int] | None = None) -> Iterator[EventMessage]:
    """Every landed Kafka message exactly once per (topic, partition, offset), in offset order,
    from past ``loaded_up_to`` (the highest offset per partition loaded before).

    Streams row groups, and dedups with one high-water mark per partition (files of a
    partition are visited by start offset and their rows are in offset order), so memory
    stays bounded however large the topic; files wholly at or below a partition's mark are not
    opened, so a load costs what is new, not the topic's history.
    """
    high_water: dict[tuple[str, int], int] = dict(loaded_up_to or {})
    for topic, partition, _start, end, path in landed_range_files(landing_dir):
        key = (topic, partition)
        mark = high_water.get(key, -1)
        if end - 1 <= mark:
            continue              # offsets start .. end - 1: every one of them is loaded
        for message in _read_range_file(path, topic):
            if message.offset <= mark:
                continue          # already yielded from an earlier (or longer) file
            mark = message.offset
            yield message
        high_water[key] = mark


def _read_range_file(path: Path, topic: str) -> Iterator[EventMessage]:
    parquet = pq.ParquetFile(path)
    previous = -1
    for batch in parquet.iter_batches(batch_size=10_000):
        cols = batch.to_pydict()
        for i, offset in enumerate(cols["offset"]):
            if offset <= previous:
                raise ValueError(f"{path}: offsets are not strictly ascending ({previous} then {offset})")
            previous = offset
            value = cols["value"][i]
            key = cols["key"][i]
            message_topic = cols["topic"][i] or topic
            yield EventMessage(
                value=b"" if value is None else bytes(value),
                origin="kafka",
                source=message_topic,
                partition=int(cols["partition"][i]),
                offset=int(offset),
                key=None if key is None else bytes(key),
                timestamp_ms=cols["timestamp_ms"][i],
                topic=message_topic,
            )
