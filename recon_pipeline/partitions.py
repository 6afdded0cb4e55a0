"""The pay-cycle partitions every cycle-scoped asset shares (one daily partition per cycle),
and the one dependency between cycles."""
from __future__ import annotations

import warnings

from dagster import BackfillPolicy, BetaWarning, DailyPartitionsDefinition, TimeWindowPartitionMapping

from recon_pipeline.settings import Settings


def pay_cycle_partitions(settings: Settings) -> DailyPartitionsDefinition:
    """Daily partitions in the configured time zone from first_cycle, at the cut-off; today included."""
    return DailyPartitionsDefinition(
        start_date=settings.first_cycle.isoformat(),
        timezone=settings.timezone,
        hour_offset=settings.cutoff.hour,
        minute_offset=settings.cutoff.minute,
        end_offset=1,
        fmt="%Y-%m-%d",
    )


# A cycle's matching starts from what the previous cycle left open (int_prior_exceptions and
# int_prior_links read the marts of earlier cycles): each dbt asset depends on itself one
# partition earlier (assets/dbt_cycle.py), so the asset graph, staleness and the order of a
# backfill follow it. The first cycle has no previous one: that is allowed.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", BetaWarning)       # allow_nonexistent_upstream_partitions
    PREVIOUS_CYCLE = TimeWindowPartitionMapping(start_offset=-1, end_offset=-1,
                                                allow_nonexistent_upstream_partitions=True)

# One cycle per run: a dbt build takes the cycle as a var, and cycles wait for each other.
ONE_CYCLE_PER_RUN = BackfillPolicy.multi_run(max_partitions_per_run=1)
