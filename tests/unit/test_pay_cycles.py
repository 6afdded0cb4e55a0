"""Pay-cycle windows: half-open, time-zone and cut-off aware, and the dbt vars built from them."""
from __future__ import annotations

import datetime as dt

from recon_pipeline.cycles import cycle_of, cycle_window_utc, dbt_vars_for_cycle
from recon_pipeline.settings import load_settings


def test_an_event_exactly_at_the_cutoff_belongs_to_the_next_cycle_only():
    start, end = cycle_window_utc(dt.date(2026, 11, 9), "UTC", dt.time(0, 0))
    assert (start, end) == (dt.datetime(2026, 11, 9, tzinfo=dt.timezone.utc),
                            dt.datetime(2026, 11, 10, tzinfo=dt.timezone.utc))
    assert cycle_of(end, "UTC", dt.time(0, 0)) == dt.date(2026, 11, 10)
    assert cycle_of(end - dt.timedelta(microseconds=1), "UTC", dt.time(0, 0)) == dt.date(2026, 11, 9)


def test_cycles_follow_the_configured_time_zone_and_cutoff():
    # 22:30 UTC on 9 Nov is 23:30 in Amsterdam: still the 9th with a midnight cut-off,
    # but already the next cycle with a 23:00 cut-off.
    instant = dt.datetime(2026, 11, 9, 22, 30, tzinfo=dt.timezone.utc)
    assert cycle_of(instant, "Europe/Amsterdam", dt.time(0, 0)) == dt.date(2026, 11, 9)
    assert cycle_of(instant, "Europe/Amsterdam", dt.time(23, 0)) == dt.date(2026, 11, 9)
    start, end = cycle_window_utc(dt.date(2026, 11, 9), "Europe/Amsterdam", dt.time(23, 0))
    assert start <= instant < end


def test_windows_tile_the_timeline_across_a_daylight_saving_change():
    tz, cutoff = "Europe/Amsterdam", dt.time(0, 0)
    day = dt.date(2026, 10, 24)
    for _ in range(3):
        _, end = cycle_window_utc(day, tz, cutoff)
        next_start, _ = cycle_window_utc(day + dt.timedelta(days=1), tz, cutoff)
        assert end == next_start
        day += dt.timedelta(days=1)
    start, end = cycle_window_utc(dt.date(2026, 10, 25), tz, cutoff)
    assert end - start == dt.timedelta(hours=25)


def test_dbt_vars_carry_the_half_open_window_and_settlement_window(tmp_path):
    settings = load_settings(environ={"RECON_HOME": str(tmp_path)})
    assert dbt_vars_for_cycle("2026-11-09", settings) == {
        "pay_cycle": "2026-11-09",
        "cycle_start_utc": "2026-11-09 00:00:00",
        "cycle_end_utc": "2026-11-10 00:00:00",
        "pay_cycle_timezone": "UTC",
        "pay_cycle_cutoff_minutes": 0,
        "settlement_window_days": 3,
    }
