"""The single Dagster entry point: merges ingestion, per-cycle dbt, reports, sensors, schedules.

`dagster dev -w workspace.yaml` and `recon run` both load these definitions, so runs
started by either show up side by side in the same instance ($RECON_HOME/dagster).
"""
from __future__ import annotations

import os

from dagster import AssetSelection, Definitions, define_asset_job

from assets.close_pack import build_close_pack_asset
from assets.dbt_cycle import build_dbt_cycle_assets
from assets.internal_consistency import build_internal_consistency_check
from assets.ingestion import operator_decisions, raw_bank_statements, raw_payment_events
from assets.portal_snapshot import build_portal_snapshot_asset
from assets.quality import build_quality_assets
from recon_pipeline.dbt_setup import ensure_manifest, recon_dbt_resource
from recon_pipeline.partitions import pay_cycle_partitions
from recon_pipeline.settings import Settings, load_settings
from sensors.close_schedule import build_close_schedule
from sensors.inbox_sensor import build_inbox_sensor

INGEST_JOB = "ingest_job"
CLOSE_JOB = "close_cycle_job"


def build_definitions(settings: Settings | None = None) -> Definitions:
    settings = settings or load_settings()
    if os.environ.get("DAGSTER_IS_DEV_CLI"):
        # `dagster dev`: re-parse the dbt project when its files changed (with this venv's dbt,
        # which DbtProject.prepare_if_dev would look for on PATH).
        ensure_manifest()
    partitions = pay_cycle_partitions(settings)
    dbt_cycle = build_dbt_cycle_assets(settings)
    close_pack = build_close_pack_asset(partitions)
    portal_snapshot = build_portal_snapshot_asset(partitions)
    quality_assets, quality_checks = build_quality_assets(partitions)

    ingest_job = define_asset_job(
        INGEST_JOB, selection=AssetSelection.assets(raw_bank_statements, raw_payment_events),
        description="Load newly landed statement files and event snapshots into the raw tables.")
    close_job = define_asset_job(
        CLOSE_JOB, selection=AssetSelection.assets(*quality_assets, dbt_cycle, close_pack, portal_snapshot),
        partitions_def=partitions,
        description="Gate one pay cycle's inputs, reconcile it, write its close pack and publish it to the portal.")

    sensors = [build_inbox_sensor(INGEST_JOB)]
    for module, factory in (("sensors.sftp_sensor", "build_sftp_sensor"),
                            ("sensors.kafka_sensor", "build_kafka_sensor")):
        try:
            mod = __import__(module, fromlist=[factory])
        except ImportError:
            continue
        sensors.append(getattr(mod, factory)(INGEST_JOB))

    return Definitions(
        assets=[operator_decisions, raw_bank_statements, raw_payment_events, *quality_assets, dbt_cycle, close_pack,
                portal_snapshot],
        asset_checks=[*quality_checks, build_internal_consistency_check(partitions)],
        jobs=[ingest_job, close_job],
        schedules=[build_close_schedule(close_job, settings)],
        sensors=sensors,
        resources={"dbt": recon_dbt_resource()},
    )


defs = build_definitions()
