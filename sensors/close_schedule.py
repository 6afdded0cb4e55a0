"""End-of-cycle close: after a pay cycle ends, build it and write its close pack.

A cycle closes at its cut-off (CONTRACT.md §2: cycle D ends at the cut-off on D, or at
midnight after D with a 00:00 cut-off). Statements for a day usually arrive overnight, so the
close runs six hours after the cut-off and builds the cycle that ended then: the cycle before
the one the tick falls in, as ``cycle_of`` says, not whatever Dagster's daily window would pick.
"""
from __future__ import annotations

import datetime as dt

from dagster import RunRequest, ScheduleEvaluationContext, schedule

from recon_pipeline.cycles import cycle_of
from recon_pipeline.run_tags import trigger_tags

CLOSE_DELAY = dt.timedelta(hours=6)


def cycle_closed_before(tick: dt.datetime, settings) -> str:
    """The pay cycle that ended at the last cut-off before ``tick`` (within a day of it)."""
    return (cycle_of(tick, settings.timezone, settings.cutoff) - dt.timedelta(days=1)).isoformat()


def build_close_schedule(close_job, settings):
    closes_at = dt.datetime.combine(dt.date(2000, 1, 1), settings.cutoff) + CLOSE_DELAY

    @schedule(job=close_job, name="end_of_cycle_close", cron_schedule=f"{closes_at.minute} {closes_at.hour} * * *",
              execution_timezone=settings.timezone,
              description="Builds the pay cycle that just ended and writes its close pack.")
    def end_of_cycle_close(context: ScheduleEvaluationContext):
        key = cycle_closed_before(context.scheduled_execution_time, settings)
        return RunRequest(run_key=key, partition_key=key, tags=trigger_tags("schedule"))

    return end_of_cycle_close
