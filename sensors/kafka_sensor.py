"""The Kafka sensor: each tick turns new offsets on the event topics into one ingest run request.

The sensor only *plans* (finds each partition's end); it lands nothing, so a tick has no side
effect that could not be replayed. The run request carries the planned ranges in its tags
(``recon/kafka_ranges``) and the plan id as run key (``kafka:<topic>:<p>:<from>-<to>|...``): a
repeated request for the same ranges is dropped by Dagster, and the run lands exactly those
ranges with ``land_planned_ranges``, which reconciles them with the ledger first — so a run
that failed or never started leaves no gap: the next run starts from the ledger's end.

The cursor is JSON ``{"ends": {"<topic>:<partition>": <next offset>}}``: where the last planned
ranges ended. A tick starts each partition at the later of the cursor and the ledger (the
ledger moves on its own when ``recon run`` lands data), so nothing new means a ``SkipReason``.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from recon_pipeline.events.kafka.client import KafkaSnapshotError, KafkaUnavailable
from recon_pipeline.events.kafka.plan import parse_partition_key, partition_key, plan_snapshot, ranges_to_json
from recon_pipeline.sources.kafka import read_ledger_ends
from recon_pipeline.run_tags import trigger_tags
from sensors.tick_settings import settings_or_skip
from recon_pipeline.settings import Settings

SENSOR_NAME = "kafka_events_sensor"
SOURCE_TAG = "recon/source"
RANGES_TAG = "recon/kafka_ranges"
NOT_CONFIGURED = "no Kafka source configured (set RECON_KAFKA_BOOTSTRAP)"

log = logging.getLogger(__name__)


def read_cursor(cursor: str | None) -> dict[str, int]:
    """The planned ends held in a cursor; an empty or damaged cursor means "ask the ledger"."""
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
        ends = data.get("ends") if isinstance(data, dict) else None
        return {str(k): int(v) for k, v in (ends or {}).items()} if isinstance(ends, dict) else {}
    except (ValueError, TypeError, AttributeError):
        return {}


def write_cursor(ends: dict[str, int]) -> str:
    return json.dumps({"ends": dict(sorted(ends.items()))}, sort_keys=True, separators=(",", ":"))


def _start_offsets(settings: Settings, cursor_ends: dict[str, int]) -> dict[str, int]:
    starts = dict(cursor_ends)
    try:
        ledger = read_ledger_ends(settings)
    except Exception as exc:  # a busy or missing warehouse must not stop the tick
        log.debug("Kafka sensor could not read the offset ledger (%s); using the cursor only", exc)
        ledger = {}
    for (topic, partition), end in ledger.items():
        key = partition_key(topic, partition)
        starts[key] = max(end, starts.get(key, end))
    return starts


def build_kafka_sensor(job_name: str = "ingest_job") -> SensorDefinition:
    """A sensor requesting ``job_name`` for each new set of offset ranges on the event topics."""

    @sensor(
        name=SENSOR_NAME,
        job_name=job_name,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.STOPPED,
        description="Plans a bounded snapshot of the payment-event topics (per partition, from the "
                    "landed offsets to the current end) and requests one ingest run per plan, "
                    "keyed by its offset ranges.",
    )
    def kafka_events_sensor(context: SensorEvaluationContext):
        settings = settings_or_skip()
        if isinstance(settings, SkipReason):
            return settings
        if settings.kafka is None:
            return SkipReason(NOT_CONFIGURED)

        cursor_ends = read_cursor(context.cursor)
        starts = _start_offsets(settings, cursor_ends)
        try:
            plan = plan_snapshot(settings.kafka, {parse_partition_key(k): v for k, v in starts.items()})
        except (KafkaUnavailable, KafkaSnapshotError) as exc:
            # The cursor is left alone: nothing was planned, so nothing is skipped next time.
            context.log.warning("Kafka snapshot planning failed: %s", exc)
            return SkipReason(str(exc))

        ends: dict[str, Any] = {**cursor_ends, **plan.ends}
        context.update_cursor(write_cursor(ends))
        if plan.missing_topics:
            context.log.warning("Kafka topic(s) not found: %s", ", ".join(plan.missing_topics))
        if plan.is_empty:
            return SkipReason("no new Kafka messages")
        return RunRequest(
            run_key=plan.id,
            job_name=job_name,
            tags={**trigger_tags("sensor"), SOURCE_TAG: "kafka", RANGES_TAG: ranges_to_json(plan.ranges)},
        )

    return kafka_events_sensor
