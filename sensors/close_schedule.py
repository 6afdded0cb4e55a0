"""End-of-cycle close: after a pay cycle ends, build it and write its close pack."""
from __future__ import annotations

from dagster import build_schedule_from_partitioned_job

from recon_pipeline.run_tags import trigger_tags


def build_close_schedule(close_job, settings):
    # Statements for a day usually arrive overnight: close six hours after the cut-off.
    hour = (settings.cutoff.hour + 6) % 24
    return build_schedule_from_partitioned_job(
        close_job, name="end_of_cycle_close", hour_of_day=hour, minute_of_hour=settings.cutoff.minute,
        tags=trigger_tags("schedule"),
        description="Builds the pay cycle that just ended and writes its close pack.")
