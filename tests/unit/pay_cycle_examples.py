"""Worked examples of CONTRACT.md §2's pay-cycle rule, written by hand from the contract and the
zones' published offsets, never computed by the code under test.

Cycle D runs from the cut-off on D-1 up to, not including, the cut-off on D; with a 00:00
cut-off it is the calendar day. Each example is a UTC instant and the cycle it belongs to, one
second either side of a cut-off, in zones east (Amsterdam, Tokyo) and west (New York) of UTC,
with cut-offs 00:00, 17:00, 23:00 and 23:30, across both daylight-saving changes of 2026
(and cut-offs inside the skipped and the repeated hour):
Europe (29 March, 25 October, at 01:00 UTC) and the US (8 March at 07:00 UTC, 1 November at
06:00 UTC). The same table is run against ``recon_pipeline.cycles`` and against the
``cycle_date_of`` dbt macro on DuckDB and on Postgres.
"""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple


class Example(NamedTuple):
    zone: str
    cutoff: str          # HH:MM local
    utc: str             # the instant, UTC
    cycle: str           # the pay cycle it belongs to
    why: str


AMS, NYC, TYO = "Europe/Amsterdam", "America/New_York", "Asia/Tokyo"

EXAMPLES = [
    Example("UTC", "00:00", "2026-11-09 23:59:59", "2026-11-09", "last second of the calendar day"),
    Example("UTC", "00:00", "2026-11-10 00:00:00", "2026-11-10", "midnight opens the next day"),
    # Amsterdam in winter is UTC+1.
    Example(AMS, "17:00", "2026-11-09 15:00:00", "2026-11-09", "16:00 local, before a 17:00 cut-off (§2)"),
    Example(AMS, "17:00", "2026-11-09 16:30:00", "2026-11-10", "17:30 local, after a 17:00 cut-off (§2)"),
    Example(AMS, "17:00", "2026-11-09 15:59:59", "2026-11-09", "16:59:59 local, a second before the cut-off"),
    Example(AMS, "17:00", "2026-11-09 16:00:00", "2026-11-10", "17:00:00 local, exactly at the cut-off"),
    Example(AMS, "23:00", "2026-11-09 21:00:00", "2026-11-09", "22:00 local before a 23:00 cut-off (issue 17)"),
    Example(AMS, "23:00", "2026-11-09 22:30:00", "2026-11-10", "23:30 local after a 23:00 cut-off (issue 17)"),
    Example(AMS, "23:30", "2026-11-09 22:29:59", "2026-11-09", "23:29:59 local"),
    Example(AMS, "23:30", "2026-11-09 22:30:00", "2026-11-10", "23:30:00 local"),
    Example(AMS, "00:00", "2026-11-09 22:59:59", "2026-11-09", "23:59:59 local, UTC says the same day"),
    Example(AMS, "00:00", "2026-11-09 23:00:00", "2026-11-10", "00:00 local on the 10th, UTC still says the 9th"),
    # New York in November (after 1 Nov) is UTC-5.
    Example(NYC, "17:00", "2026-11-09 21:59:59", "2026-11-09", "16:59:59 local"),
    Example(NYC, "17:00", "2026-11-09 22:00:00", "2026-11-10", "17:00:00 local"),
    Example(NYC, "00:00", "2026-11-10 04:59:59", "2026-11-09", "23:59:59 local on the 9th, UTC says the 10th"),
    Example(NYC, "00:00", "2026-11-10 05:00:00", "2026-11-10", "midnight local"),
    Example(NYC, "23:30", "2026-11-10 04:29:59", "2026-11-09", "23:29:59 local, UTC already the 10th"),
    Example(NYC, "23:30", "2026-11-10 04:30:00", "2026-11-10", "23:30:00 local"),
    # Tokyo is UTC+9 all year.
    Example(TYO, "17:00", "2026-11-09 07:59:59", "2026-11-09", "16:59:59 local"),
    Example(TYO, "17:00", "2026-11-09 08:00:00", "2026-11-10", "17:00:00 local"),
    Example(TYO, "00:00", "2026-11-08 14:59:59", "2026-11-08", "23:59:59 local on the 8th"),
    Example(TYO, "00:00", "2026-11-08 15:00:00", "2026-11-09", "00:00 local on the 9th, UTC still says the 8th"),
    Example(TYO, "23:30", "2026-11-09 14:29:59", "2026-11-09", "23:29:59 local"),
    Example(TYO, "23:30", "2026-11-09 14:30:00", "2026-11-10", "23:30:00 local"),
    # Europe springs forward on 29 March 2026 at 01:00 UTC (02:00 CET -> 03:00 CEST).
    Example(AMS, "17:00", "2026-03-28 15:59:59", "2026-03-28", "16:59:59 CET the day before"),
    Example(AMS, "17:00", "2026-03-28 16:00:00", "2026-03-29", "17:00:00 CET the day before"),
    Example(AMS, "17:00", "2026-03-29 14:59:59", "2026-03-29", "16:59:59 CEST on the day"),
    Example(AMS, "17:00", "2026-03-29 15:00:00", "2026-03-30", "17:00:00 CEST on the day"),
    Example(AMS, "00:00", "2026-03-29 00:59:59", "2026-03-29", "01:59:59 CET, a second before the jump"),
    Example(AMS, "00:00", "2026-03-29 01:00:00", "2026-03-29", "03:00:00 CEST, the jump"),
    Example(AMS, "00:00", "2026-03-29 21:59:59", "2026-03-29", "23:59:59 CEST"),
    Example(AMS, "00:00", "2026-03-29 22:00:00", "2026-03-30", "midnight CEST"),
    # Europe falls back on 25 October 2026 at 01:00 UTC (03:00 CEST -> 02:00 CET).
    Example(AMS, "17:00", "2026-10-24 14:59:59", "2026-10-24", "16:59:59 CEST the day before"),
    Example(AMS, "17:00", "2026-10-24 15:00:00", "2026-10-25", "17:00:00 CEST the day before"),
    Example(AMS, "17:00", "2026-10-25 15:59:59", "2026-10-25", "16:59:59 CET on the day"),
    Example(AMS, "17:00", "2026-10-25 16:00:00", "2026-10-26", "17:00:00 CET on the day"),
    Example(AMS, "00:00", "2026-10-25 00:30:00", "2026-10-25", "02:30 CEST, first pass"),
    Example(AMS, "00:00", "2026-10-25 01:30:00", "2026-10-25", "02:30 CET, second pass"),
    Example(AMS, "00:00", "2026-10-25 22:59:59", "2026-10-25", "23:59:59 CET"),
    # A cut-off inside the hour that is skipped or repeated. The cycle closes when the clock first
    # shows the cut-off or later: at the jump when the clocks go forward over it (02:30 never
    # shows on 29 March in Amsterdam), at its first pass when they go back.
    Example(AMS, "02:30", "2026-03-28 01:29:59", "2026-03-28", "02:29:59 CET the day before"),
    Example(AMS, "02:30", "2026-03-28 01:30:00", "2026-03-29", "02:30:00 CET the day before"),
    Example(AMS, "02:30", "2026-03-29 00:59:59", "2026-03-29", "01:59:59 CET, the clock not yet at 02:30"),
    Example(AMS, "02:30", "2026-03-29 01:00:00", "2026-03-30", "03:00:00 CEST: the clock jumped over 02:30"),
    Example(AMS, "02:30", "2026-03-29 01:29:59", "2026-03-30", "03:29:59 CEST, though 02:30 CET would be 01:30 UTC"),
    Example(AMS, "02:30", "2026-10-25 00:29:59", "2026-10-25", "02:29:59 CEST, first pass"),
    Example(AMS, "02:30", "2026-10-25 00:30:00", "2026-10-26", "02:30:00 CEST, first pass: the cut-off shows"),
    Example(AMS, "02:30", "2026-10-25 01:10:00", "2026-10-26", "02:10 CET, second pass: the clock showed 02:30 already"),
    Example(AMS, "02:30", "2026-10-25 01:30:00", "2026-10-26", "02:30 CET, second pass"),
    Example(AMS, "02:30", "2026-10-26 01:29:59", "2026-10-26", "02:29:59 CET the day after"),
    Example(NYC, "02:30", "2026-03-08 06:59:59", "2026-03-08", "01:59:59 EST, a second before the jump"),
    Example(NYC, "02:30", "2026-03-08 07:00:00", "2026-03-09", "03:00:00 EDT: the clock jumped over 02:30"),
    Example(NYC, "01:30", "2026-11-01 05:29:59", "2026-11-01", "01:29:59 EDT, first pass"),
    Example(NYC, "01:30", "2026-11-01 05:30:00", "2026-11-02", "01:30:00 EDT, first pass: the cut-off shows"),
    Example(NYC, "01:30", "2026-11-01 06:15:00", "2026-11-02", "01:15 EST, second pass: the clock showed 01:30 already"),
    Example(NYC, "01:30", "2026-11-01 06:45:00", "2026-11-02", "01:45 EST, second pass"),
    # The US springs forward on 8 March 2026 at 07:00 UTC (02:00 EST -> 03:00 EDT).
    Example(NYC, "17:00", "2026-03-07 21:59:59", "2026-03-07", "16:59:59 EST the day before"),
    Example(NYC, "17:00", "2026-03-07 22:00:00", "2026-03-08", "17:00:00 EST the day before"),
    Example(NYC, "17:00", "2026-03-08 20:59:59", "2026-03-08", "16:59:59 EDT on the day"),
    Example(NYC, "17:00", "2026-03-08 21:00:00", "2026-03-09", "17:00:00 EDT on the day"),
    Example(NYC, "23:30", "2026-03-09 03:29:59", "2026-03-08", "23:29:59 EDT"),
    Example(NYC, "23:30", "2026-03-09 03:30:00", "2026-03-09", "23:30:00 EDT"),
    # The US falls back on 1 November 2026 at 06:00 UTC (02:00 EDT -> 01:00 EST).
    Example(NYC, "17:00", "2026-10-31 20:59:59", "2026-10-31", "16:59:59 EDT the day before"),
    Example(NYC, "17:00", "2026-10-31 21:00:00", "2026-11-01", "17:00:00 EDT the day before"),
    Example(NYC, "17:00", "2026-11-01 21:59:59", "2026-11-01", "16:59:59 EST on the day"),
    Example(NYC, "17:00", "2026-11-01 22:00:00", "2026-11-02", "17:00:00 EST on the day"),
    Example(NYC, "00:00", "2026-11-01 05:30:00", "2026-11-01", "01:30 EDT, first pass"),
    Example(NYC, "00:00", "2026-11-01 06:30:00", "2026-11-01", "01:30 EST, second pass"),
]


class Window(NamedTuple):
    zone: str
    cutoff: str
    cycle: str
    start_utc: str
    end_utc: str


# Whole cycles: 24 hours, or 23 / 25 on a daylight-saving day.
WINDOWS = [
    Window("UTC", "00:00", "2026-11-09", "2026-11-09 00:00:00", "2026-11-10 00:00:00"),
    Window(AMS, "17:00", "2026-11-10", "2026-11-09 16:00:00", "2026-11-10 16:00:00"),
    Window(AMS, "00:00", "2026-11-10", "2026-11-09 23:00:00", "2026-11-10 23:00:00"),
    Window(AMS, "17:00", "2026-03-29", "2026-03-28 16:00:00", "2026-03-29 15:00:00"),   # 23 h
    Window(AMS, "00:00", "2026-03-29", "2026-03-28 23:00:00", "2026-03-29 22:00:00"),   # 23 h
    Window(AMS, "17:00", "2026-10-25", "2026-10-24 15:00:00", "2026-10-25 16:00:00"),   # 25 h
    Window(AMS, "00:00", "2026-10-25", "2026-10-24 22:00:00", "2026-10-25 23:00:00"),   # 25 h
    Window(NYC, "17:00", "2026-03-08", "2026-03-07 22:00:00", "2026-03-08 21:00:00"),   # 23 h
    Window(NYC, "17:00", "2026-11-01", "2026-10-31 21:00:00", "2026-11-01 22:00:00"),   # 25 h
    Window(AMS, "02:30", "2026-03-29", "2026-03-28 01:30:00", "2026-03-29 01:00:00"),   # 23.5 h, ends at the jump
    Window(AMS, "02:30", "2026-03-30", "2026-03-29 01:00:00", "2026-03-30 00:30:00"),   # 23.5 h
    Window(AMS, "02:30", "2026-10-25", "2026-10-24 00:30:00", "2026-10-25 00:30:00"),   # ends at the first pass
    Window(AMS, "02:30", "2026-10-26", "2026-10-25 00:30:00", "2026-10-26 01:30:00"),   # 25 h
    Window(NYC, "01:30", "2026-11-02", "2026-11-01 05:30:00", "2026-11-02 06:30:00"),   # 25 h
    Window(NYC, "23:30", "2026-03-09", "2026-03-09 03:30:00", "2026-03-10 03:30:00"),
    Window(TYO, "23:30", "2026-11-10", "2026-11-09 14:30:00", "2026-11-10 14:30:00"),
    Window(TYO, "00:00", "2026-11-09", "2026-11-08 15:00:00", "2026-11-09 15:00:00"),
]


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def cutoff(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def cutoff_minutes(text: str) -> int:
    t = cutoff(text)
    return t.hour * 60 + t.minute


def example_id(e) -> str:
    return f"{e.zone}-{e.cutoff}-{getattr(e, 'utc', getattr(e, 'cycle', ''))}"
