"""The pay-cycle partitions every cycle-scoped asset shares (one daily partition per cycle),
and the one dependency between cycles."""
from __future__ import annotations

import datetime as dt
import warnings

from dagster import BackfillPolicy, BetaWarning, DailyPartitionsDefinition, TimeWindowPartitionMapping

from recon_pipeline.settings import Settings


def pay_cycle_partitions(settings: Settings) -> DailyPartitionsDefinition:
    """Daily partitions in the configured time zone, keyed by pay cycle; the open cycle included.

    A partition key is the cycle's label; its real UTC window comes from
    ``recon_pipeline.cycles.cycle_window_utc`` (cycle D closes at the cut-off on D). Dagster
    labels a window by its start, which with a cut-off offset would name cycle D "D-1", so the
    partitions are calendar days and, with a cut-off other than 00:00, tomorrow's key is
    included too (that cycle opens at today's cut-off).
    """
    return DailyPartitionsDefinition(
        start_date=settings.first_cycle.isoformat(),
        timezone=settings.timezone,
        end_offset=1 if settings.cutoff == dt.time(0, 0) else 2,
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
