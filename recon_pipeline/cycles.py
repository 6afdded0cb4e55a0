"""Pay cycles: a calendar day in the configured time zone, shifted by the cut-off.

The one function that turns a Dagster partition key into dbt vars lives here, pure and
tested, so the SQL never has to know about time zones or cut-offs beyond the half-open
window ``[cycle_start_utc, cycle_end_utc)`` it is handed: an event at exactly the cut-off
belongs to the next cycle, never to both.
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from recon_pipeline.consistency.dbt_vars import internal_consistency_vars
from recon_pipeline.settings import Settings


def cycle_window_utc(cycle: dt.date, timezone: str, cutoff: dt.time) -> tuple[dt.datetime, dt.datetime]:
    """Half-open UTC window of a pay cycle: from cut-off on the cycle day to cut-off the next day."""
    tz = ZoneInfo(timezone)
    start = dt.datetime.combine(cycle, cutoff, tzinfo=tz)
    end = dt.datetime.combine(cycle + dt.timedelta(days=1), cutoff, tzinfo=tz)
    return start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)


def cycle_of(instant: dt.datetime, timezone: str, cutoff: dt.time) -> dt.date:
    """The pay cycle an instant belongs to (the inverse of ``cycle_window_utc``)."""
    local = instant.astimezone(ZoneInfo(timezone))
    shifted = local - dt.timedelta(hours=cutoff.hour, minutes=cutoff.minute, seconds=cutoff.second)
    return shifted.date()


def parse_cycle(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"pay cycle must be YYYY-MM-DD, got {value!r}") from None


def dbt_vars_for_cycle(pay_cycle: str, settings: Settings) -> dict[str, Any]:
    """Everything a dbt run for one pay cycle needs, as plain strings and numbers."""
    cycle = parse_cycle(pay_cycle)
    start, end = cycle_window_utc(cycle, settings.timezone, settings.cutoff)
    fmt = "%Y-%m-%d %H:%M:%S"
    return {
        "pay_cycle": cycle.isoformat(),
        "cycle_start_utc": start.strftime(fmt),
        "cycle_end_utc": end.strftime(fmt),
        "pay_cycle_timezone": settings.timezone,
        "pay_cycle_cutoff_minutes": settings.cutoff.hour * 60 + settings.cutoff.minute,
        "settlement_window_days": settings.settlement_window_days,
        **internal_consistency_vars(settings),
    }


def cycles_between(first: dt.date, last: dt.date) -> list[str]:
    days = (last - first).days
    return [(first + dt.timedelta(days=i)).isoformat() for i in range(days + 1)]
