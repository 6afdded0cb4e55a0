"""The pay-cycle partitions every cycle-scoped asset shares (one daily partition per cycle)."""
from __future__ import annotations

from dagster import DailyPartitionsDefinition

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
