"""The single Dagster entry point: per-area ``Definitions`` merged into one.

Areas, as in Dagster's open platform (``definitions.py`` merging ``defs/<area>``): ingestion
(raw tables and their job), the pay cycle (input gate, dbt, checks, close pack, portal, and the
close job), pick-up (sensors) and the close schedule, and the resources every area shares,
declared once (orchestration/resources.py).

`dagster dev -w workspace.yaml` and `recon run` both load these definitions, so runs
started by either show up side by side in the same instance ($RECON_HOME/dagster).
Every module is imported at the top: a sensor that fails to import fails the code location
loudly instead of silently disappearing from it.
"""
from __future__ import annotations

import os

from dagster import Definitions

from assets.close_pack import build_close_pack_asset
from assets.dbt_cycle import build_dbt_cycle_assets
from assets.ingestion import operator_decisions, raw_bank_statements, raw_payment_events
from assets.internal_consistency import build_internal_consistency_check
from assets.portal_snapshot import build_portal_snapshot_asset
from assets.quality import build_quality_assets
from orchestration.jobs import CLOSE_JOB, INGEST_JOB, close_job, ingest_job
from orchestration.partitions import pay_cycle_partitions
from orchestration.resources import recon_resources
from recon_pipeline.dbt_setup import ensure_manifest
from recon_pipeline.settings import Settings, load_settings
from sensors.close_schedule import build_close_schedule
from sensors.dead_run_sensor import build_dead_run_sensor
from sensors.inbox_sensor import build_inbox_sensor
from sensors.kafka_sensor import build_kafka_sensor
from sensors.sftp_sensor import build_sftp_sensor

__all__ = ["CLOSE_JOB", "INGEST_JOB", "build_definitions", "defs"]


def ingestion_definitions() -> Definitions:
    """Landed files → raw tables, and the operators' log the marts read."""
    return Definitions(assets=[operator_decisions, raw_bank_statements, raw_payment_events],
                       jobs=[ingest_job(raw_bank_statements, raw_payment_events)])


def cycle_definitions(settings: Settings) -> Definitions:
    """One pay cycle, one partition: gate → dbt → checks → close pack → portal, and its job and schedule."""
    partitions = pay_cycle_partitions(settings)
    quality_assets, quality_checks = build_quality_assets(partitions)
    dbt_cycle = build_dbt_cycle_assets(partitions)
    close_pack = build_close_pack_asset(partitions)
    portal_snapshot = build_portal_snapshot_asset(partitions)
    job = close_job(partitions, *quality_assets, dbt_cycle, close_pack, portal_snapshot)
    return Definitions(
        assets=[*quality_assets, dbt_cycle, close_pack, portal_snapshot],
        asset_checks=[*quality_checks, build_internal_consistency_check(partitions)],
        jobs=[job],
        schedules=[build_close_schedule(job, settings)],
    )


def pickup_definitions() -> Definitions:
    """The sensors that notice new input (local inbox, SFTP, Kafka) and ask for ingest runs,
    and the one that notices runs whose process died."""
    return Definitions(sensors=[build_inbox_sensor(INGEST_JOB), build_sftp_sensor(INGEST_JOB),
                                build_kafka_sensor(INGEST_JOB), build_dead_run_sensor()])


def build_definitions(settings: Settings | None = None) -> Definitions:
    settings = settings or load_settings()
    if os.environ.get("DAGSTER_IS_DEV_CLI"):
        # `dagster dev`: re-parse the dbt project when its files changed (with this venv's dbt,
        # which DbtProject.prepare_if_dev would look for on PATH).
        ensure_manifest()
    return Definitions.merge(
        ingestion_definitions(),
        cycle_definitions(settings),
        pickup_definitions(),
        Definitions(resources=recon_resources(settings)),
    )


defs = build_definitions()
