"""Which Kafka offsets have been landed durably: the ledger is the truth, the consumer group is not.

Why a ledger in the warehouse rather than the consumer group's committed offsets: a commit
cannot be made atomic with writing a Parquet file, and tansu (the test broker) and real
clusters alike lose or reset group offsets (group expiry, topic re-creation). The ledger lives
next to the data it describes, in ``raw.kafka_offset_ledger``, one row per landed range
``[start_offset, end_offset)`` of one topic-partition.

The exactly-once contract, in order, for every range:

1. the range is read from Kafka and written as ``landing/events/kafka/<topic>/<p>/<from>-<to>.parquet``
   (temporary file, fsync, atomic rename — a file under its final name is complete;
   ``recon_pipeline.events.kafka.land``);
2. only then is the range recorded here (``record_range``, idempotent);
3. only then is the consumer group committed to ``end`` — for lag dashboards, never read back.

A crash between 1 and 2 leaves a landed but unrecorded file. The next run plans from the
ledger, so it re-reads from the same ``start``, possibly to a larger ``end`` (new messages
arrived meanwhile), and lands e.g. ``0-12.parquet`` next to the orphaned ``0-10.parquet``.
Nothing is lost (the ledger never claims what is not on disk) and nothing is duplicated
*for readers that dedup by (topic, partition, offset)*: that is the rule for everything
downstream, and ``events.kafka.land.iter_landed_messages`` applies it, yielding each offset once.
Landed files are never edited or deleted, so a re-run can always rebuild from them.

Ranges recorded for a partition are contiguous: a range that would leave a gap after the
recorded end is refused (it would silently lose the offsets in between); one that is already
covered is a no-op; an overlap (two runs planned concurrently) is recorded as it is, since
readers dedup by offset anyway.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from recon_pipeline.audit.pipeline_actions import audit_offsets_landed
from recon_pipeline.warehouse.connection import Warehouse
from recon_pipeline.warehouse.raw_schema import create_tables

LEDGER_TABLE = "raw.kafka_offset_ledger"


class LedgerGap(RuntimeError):
    """Recording this range would leave offsets between the recorded end and its start unlanded."""


def ensure_ledger(wh: Warehouse) -> None:
    """Create ``raw.kafka_offset_ledger`` if missing (safe to call on every run)."""
    create_tables(wh, "raw", {LEDGER_TABLE: """
            topic varchar not null,
            "partition" integer not null,
            start_offset bigint not null,
            end_offset bigint not null,
            landed_path varchar not null,
            recorded_at timestamp not null,
            run_id varchar,
            primary key (topic, "partition", start_offset, end_offset)
    """})


def recorded_end(wh: Warehouse, topic: str, partition: int) -> int:
    """The first offset not yet landed for a partition (0 when nothing was ever recorded)."""
    value = recorded_end_or_none(wh, topic, partition)
    return 0 if value is None else value


def recorded_end_or_none(wh: Warehouse, topic: str, partition: int) -> int | None:
    """Like ``recorded_end`` but None for a partition never landed (its start is then the
    partition's earliest retained offset, which need not be 0)."""
    if not wh.table_exists("raw", "kafka_offset_ledger"):
        return None
    row = wh.fetchone(
        f'select max(end_offset) from {LEDGER_TABLE} where topic = ? and "partition" = ?',
        (topic, int(partition)))
    return None if row is None or row[0] is None else int(row[0])


def recorded_ends(wh: Warehouse) -> dict[tuple[str, int], int]:
    """Every partition that has a recorded range, with its end.

    Partitions absent from the result have never been landed: the planner starts those at
    the partition's earliest retained offset rather than at 0, which may have been deleted.
    """
    if not wh.table_exists("raw", "kafka_offset_ledger"):
        return {}
    rows = wh.fetchall(
        f'select topic, "partition", max(end_offset) from {LEDGER_TABLE} group by topic, "partition"')
    return {(str(t), int(p)): int(e) for t, p, e in rows}


def ledger_rows(wh: Warehouse, topic: str | None = None) -> list[dict]:
    """The ledger in (topic, partition, start) order, for tests, checks and the UI."""
    if not wh.table_exists("raw", "kafka_offset_ledger"):
        return []
    sql = (f'select topic, "partition", start_offset, end_offset, landed_path, recorded_at, run_id '
           f'from {LEDGER_TABLE}')
    params: tuple = ()
    if topic is not None:
        sql += " where topic = ?"
        params = (topic,)
    sql += ' order by topic, "partition", start_offset, end_offset'
    return wh.fetch_dicts(sql, params)


def record_range(wh: Warehouse, topic: str, partition: int, start: int, end: int,
                 landed_path: str | Path, run_id: str | None = None) -> bool:
    """Record ``[start, end)`` as durably landed; True if this call added a row.

    Call only after the Parquet file is renamed into place. Idempotent: the same range twice,
    or a range inside what is already recorded, is a no-op (False). A start beyond the
    recorded end raises ``LedgerGap`` because the offsets in between would never be landed.
    """
    start, end, partition = int(start), int(end), int(partition)
    if end <= start:
        raise ValueError(f"empty or inverted offset range {start}-{end} for {topic}/{partition}")
    ensure_ledger(wh)
    with wh.transaction():
        exists = wh.fetchone(
            f'select 1 from {LEDGER_TABLE} where topic = ? and "partition" = ? '
            f"and start_offset = ? and end_offset = ?",
            (topic, partition, start, end))
        if exists:
            return False
        current = recorded_end_or_none(wh, topic, partition)
        if current is not None:
            if end <= current:
                return False
            if start > current:
                raise LedgerGap(
                    f"cannot record {topic}/{partition} offsets {start}-{end}: offsets "
                    f"{current}-{start} were never landed")
        wh.execute(
            f'insert into {LEDGER_TABLE} (topic, "partition", start_offset, end_offset, landed_path, '
            f"recorded_at, run_id) values (?, ?, ?, ?, ?, ?, ?)",
            (topic, partition, start, end, str(landed_path),
             dt.datetime.now(dt.UTC).replace(tzinfo=None), run_id))
        audit_offsets_landed(wh, topic, partition, start, end, run_id)
    return True
