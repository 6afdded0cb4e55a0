"""The Kafka sensor: each tick turns new offsets on the event topics into one ingest run request.

The sensor only *plans* (``sources.pickup.plan_kafka``: from the offsets ledger to each
partition's end); it lands nothing, so a tick has no side effect that could not be replayed.
The run request carries the planned ranges in its tags (``recon/kafka_ranges``) and the plan id
as run key (``kafka:<topic>:<p>:<from>-<to>|...``). The run lands exactly those ranges with
``land_planned_ranges``, which reconciles them with the ledger first — so a run that failed or
never started leaves no gap, and overlapping plans land each offset once.

No cursor: where landing stopped is in the ledger, the one place ``recon run`` reads too. A
tick before the run for its plan has landed plans the same ranges under the same run key,
which Dagster drops; once new messages arrive the next plan covers them as well.
"""
from __future__ import annotations

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from recon_pipeline.events.kafka.client import KafkaSnapshotError, KafkaUnavailable
from recon_pipeline.events.kafka.plan import ranges_to_json
from recon_pipeline.run_tags import trigger_tags
from recon_pipeline.sources.pickup import SOURCE_TAG, PickupError, plan_kafka
from sensors.tick_settings import settings_or_skip

SENSOR_NAME = "kafka_events_sensor"
RANGES_TAG = "recon/kafka_ranges"
NOT_CONFIGURED = "no Kafka source configured (set RECON_KAFKA_BOOTSTRAP)"


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
        try:
            plan = plan_kafka(settings)
        except (KafkaUnavailable, KafkaSnapshotError, PickupError) as exc:
            context.log.warning("Kafka snapshot planning failed: %s", exc)
            return SkipReason(str(exc))
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
