"""The pay-cycle partitions every cycle-scoped asset shares (one daily partition per cycle)."""
from __future__ import annotations

import datetime as dt

from dagster import BackfillPolicy, DailyPartitionsDefinition

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


# A cycle's matching starts from what earlier cycles left open, so a backfill must build
# cycles one run each, in order (with one run at a time, see the instance's dagster.yaml).
ONE_CYCLE_PER_RUN = BackfillPolicy.multi_run(max_partitions_per_run=1)
