"""The pay-cycle partitions every cycle-scoped asset shares (one daily partition per cycle)."""
from __future__ import annotations

from dagster import BackfillPolicy, DailyPartitionsDefinition

from recon_pipeline.settings import Settings


def pay_cycle_partitions(settings: Settings) -> DailyPartitionsDefinition:
    """Daily partitions in the configured time zone, starting at the cut-off; today included."""
    return DailyPartitionsDefinition(
        start_date=settings.first_cycle.isoformat(),
        timezone=settings.timezone,
        hour_offset=settings.cutoff.hour,
        minute_offset=settings.cutoff.minute,
        end_offset=1,
        fmt="%Y-%m-%d",
    )


# A cycle's matching starts from what earlier cycles left open, so a backfill must build
# cycles one run each, in order (with one run at a time, see the instance's dagster.yaml).
ONE_CYCLE_PER_RUN = BackfillPolicy.multi_run(max_partitions_per_run=1)
