"""Pay cycles: a calendar day in the configured time zone that closes at the cut-off.

CONTRACT.md §2: the cut-off is the time of day at which a pay cycle closes, as in payment
operations. Cycle D runs from the cut-off on D-1 up to, not including, the cut-off on D, so
with a 17:00 cut-off a payment sent at 17:30 on the 9th belongs to the 10th. A cut-off of
00:00 closes the cycle at the end of its own day, so the cycle is the calendar day.

The one function that turns a Dagster partition key into dbt vars lives here, pure and
tested, so the SQL never has to know about time zones or cut-offs beyond the half-open
window ``[cycle_start_utc, cycle_end_utc)`` it is handed: an event at exactly the cut-off
belongs to the next cycle, never to both. ``cycle_date_of`` in dbt_project/macros/portable.sql
is the same rule in SQL; one table of worked examples (tests/unit/pay_cycle_examples.py)
is run against both.
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from recon_pipeline.consistency.dbt_vars import internal_consistency_vars
from recon_pipeline.settings import Settings


def _closing_day(cycle: dt.date, cutoff: dt.time) -> dt.date:
    """The local day on whose cut-off the cycle closes: the cycle day itself, or the next day
    for a 00:00 cut-off (midnight at the end of the cycle day)."""
    return cycle if cutoff != dt.time(0, 0) else cycle + dt.timedelta(days=1)


def cycle_window_utc(cycle: dt.date, timezone: str, cutoff: dt.time) -> tuple[dt.datetime, dt.datetime]:
    """Half-open UTC window of a pay cycle: from the cut-off on the day before to the cut-off
    on the cycle day (midnight to midnight with the default 00:00 cut-off)."""
    closing = _closing_day(cycle, cutoff)
    return (_cutoff_instant(closing - dt.timedelta(days=1), timezone, cutoff),
            _cutoff_instant(closing, timezone, cutoff))


def cycle_of(instant: dt.datetime, timezone: str, cutoff: dt.time) -> dt.date:
    """The pay cycle an instant belongs to (the inverse of ``cycle_window_utc``): its local
    day, or the next day once the local clock has reached a cut-off other than 00:00 on it
    (in a repeated hour, the clock reached it on the first pass already)."""
    local_day = instant.astimezone(ZoneInfo(timezone)).date()
    if cutoff != dt.time(0, 0) and instant >= _cutoff_instant(local_day, timezone, cutoff):
        return local_day + dt.timedelta(days=1)
    return local_day


def _cutoff_instant(day: dt.date, timezone: str, cutoff: dt.time) -> dt.datetime:
    """The first instant of the local ``day`` at which the clock shows ``cutoff`` or later.

    On most days that is simply the cut-off. When the clocks go back and the cut-off falls in
    the repeated hour, it is its first pass: the clock has shown the cut-off, the cycle is
    closed. When the clocks go forward over the cut-off (02:30 on a night that jumps from 02:00
    to 03:00), the cut-off never shows: the cycle closes at the jump, the first instant at
    which the clock is past it. ``zoneinfo`` resolves such wall times by ``fold``, both of
    which miss the jump, so it is found between the two readings (transitions fall on whole
    seconds).
    """
    tz = ZoneInfo(timezone)
    readings = sorted(dt.datetime.combine(day, cutoff, tzinfo=tz).replace(fold=f).astimezone(dt.UTC) for f in (0, 1))
    earliest, latest = readings

    def reached(instant: dt.datetime) -> bool:
        local = instant.astimezone(tz)
        return local.date() > day or (local.date() == day and local.time().replace(tzinfo=None) >= cutoff)

    if reached(earliest):
        return earliest
    low, high = 0, int((latest - earliest).total_seconds())      # not reached at low, reached at high
    while high - low > 1:
        middle = (low + high) // 2
        if reached(earliest + dt.timedelta(seconds=middle)):
            high = middle
        else:
            low = middle
    return earliest + dt.timedelta(seconds=high)


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
