"""Pick up payment events from Kafka: plan from the offsets ledger, land, record, commit.

The order of effects, for every range (see ``warehouse.kafka_ledger`` for the crash analysis):
read the range → write its Parquet file atomically (``events.kafka.land``) → record the range
in ``raw.kafka_offset_ledger`` → commit the consumer group to its end (``events.kafka.commit``;
lag dashboards only, never read back). The ledger is the one record of what has landed: every
plan starts from it, whoever plans (``recon run`` or the Kafka sensor).

This is the one module that joins the event package and the warehouse for Kafka: the event
package reads and lands, the warehouse records, and neither imports the other.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from recon_pipeline.events.kafka.client import KafkaSnapshotError
from recon_pipeline.events.kafka.commit import GroupCommitter
from recon_pipeline.events.kafka.land import LandedRange, land_range
from recon_pipeline.events.kafka.plan import OffsetRange, SnapshotPlan, plan_snapshot
from recon_pipeline.events.kafka.read import earliest_offset
from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.connection import Warehouse, open_warehouse
from recon_pipeline.warehouse.kafka_ledger import ensure_ledger, record_range, recorded_end_or_none, recorded_ends

log = logging.getLogger(__name__)


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
    committer = GroupCommitter(settings.kafka)
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
        plan = plan_snapshot(settings.kafka, recorded_ends(wh))
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
