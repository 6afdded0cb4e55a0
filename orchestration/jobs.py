"""The two jobs: ingestion (unpartitioned: a file may span many cycles) and the close of one
pay cycle. Their names are what the sensors, the schedule, the UI and ``recon run`` use."""
from __future__ import annotations

from dagster import AssetSelection, PartitionsDefinition, define_asset_job

INGEST_JOB = "ingest_job"
CLOSE_JOB = "close_cycle_job"


def ingest_job(*raw_assets):
    return define_asset_job(
        INGEST_JOB, selection=AssetSelection.assets(*raw_assets),
        description="Load newly landed statement files and event snapshots into the raw tables.")


def close_job(partitions: PartitionsDefinition, *cycle_assets):
    return define_asset_job(
        CLOSE_JOB, selection=AssetSelection.assets(*cycle_assets), partitions_def=partitions,
        description="Gate one pay cycle's inputs, reconcile it, write its close pack and publish it to the portal.")
