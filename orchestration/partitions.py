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

# One cycle per run for the steps that stand alone per cycle (the input gate, the close pack,
# the portal snapshot): a backfill fans them out, one run per cycle.
ONE_CYCLE_PER_RUN = BackfillPolicy.multi_run(max_partitions_per_run=1)

# The dbt build, which depends on its own previous cycle: a backfill gives it one run for the
# whole range and it builds the cycles oldest first (assets/dbt_cycle.py). Why not one run per
# cycle: Dagster 1.13's backfill daemon (dagster/_core/execution/asset_backfill.py) cuts a
# self-dependent asset's candidate partitions to max_partitions_per_run and then compares them
# with the uncut set of its siblings in the same non-subsettable unit; they never match while
# more than one cycle waits, and the backfill fails the unit ("parent int_closed_items is
# requesting a different set of partitions from int_open_payments").
CYCLES_IN_ORDER_IN_ONE_RUN = BackfillPolicy.single_run()
