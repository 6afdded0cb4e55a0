"""Pay-cycle windows: half-open, time-zone and cut-off aware, and the dbt vars built from them.

The rule is pinned by hand-written examples (tests/unit/pay_cycle_examples.py); the same table
is run against the SQL macro in tests/dbt/test_cycle_date_of_macro.py.
"""
from __future__ import annotations

import datetime as dt

import pytest

from recon_pipeline.cycles import cycle_of, cycle_window_utc, dbt_vars_for_cycle
from recon_pipeline.settings import load_settings
from tests.unit.pay_cycle_examples import EXAMPLES, WINDOWS, cutoff, example_id, utc


@pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
def test_a_payment_belongs_to_the_cycle_the_contract_gives_it(example):
    got = cycle_of(utc(example.utc), example.zone, cutoff(example.cutoff))
    assert got.isoformat() == example.cycle, example.why


@pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
def test_a_payment_lies_inside_the_window_of_its_own_cycle(example):
    start, end = cycle_window_utc(dt.date.fromisoformat(example.cycle), example.zone, cutoff(example.cutoff))
    assert start <= utc(example.utc) < end, example.why


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: f"{w.zone}-{w.cutoff}-{w.cycle}")
def test_a_cycle_runs_from_the_cutoff_the_day_before_to_the_cutoff_on_its_day(window):
    got = cycle_window_utc(dt.date.fromisoformat(window.cycle), window.zone, cutoff(window.cutoff))
    assert got == (utc(window.start_utc), utc(window.end_utc))


def test_an_event_exactly_at_the_cutoff_belongs_to_the_next_cycle_only():
    start, end = cycle_window_utc(dt.date(2026, 11, 9), "UTC", dt.time(0, 0))
    assert cycle_of(end, "UTC", dt.time(0, 0)) == dt.date(2026, 11, 10)
    assert cycle_of(end - dt.timedelta(microseconds=1), "UTC", dt.time(0, 0)) == dt.date(2026, 11, 9)


@pytest.mark.parametrize("tz", ["Europe/Amsterdam", "America/New_York", "Asia/Tokyo"])
@pytest.mark.parametrize("cut", [dt.time(0, 0), dt.time(17, 0), dt.time(23, 30)])
def test_windows_tile_the_timeline_across_both_daylight_saving_changes(tz, cut):
    for first in (dt.date(2026, 3, 6), dt.date(2026, 10, 23)):
        for i in range(12):
            day = first + dt.timedelta(days=i)
            _, end = cycle_window_utc(day, tz, cut)
            next_start, _ = cycle_window_utc(day + dt.timedelta(days=1), tz, cut)
            assert end == next_start, (tz, cut, day)


@pytest.mark.parametrize("tz", ["Europe/Amsterdam", "America/New_York", "Australia/Lord_Howe", "America/Santiago"])
@pytest.mark.parametrize("cut", [dt.time(0, 30), dt.time(1, 30), dt.time(2, 0), dt.time(2, 30), dt.time(3, 0), dt.time(23, 30)])
def test_every_instant_around_a_clock_change_lies_in_the_window_of_the_cycle_it_is_given(tz, cut):
    """Cycle and window are one rule even when the cut-off is skipped or repeated: every five
    minutes over the days around 2026's clock changes, the cycle an instant is given has a
    window that holds it."""
    for first in (dt.date(2026, 3, 6), dt.date(2026, 3, 27), dt.date(2026, 4, 3), dt.date(2026, 9, 4),
                  dt.date(2026, 10, 2), dt.date(2026, 10, 23), dt.date(2026, 10, 30)):
        instant = dt.datetime.combine(first, dt.time(0, 0), tzinfo=dt.UTC)
        while instant < dt.datetime.combine(first + dt.timedelta(days=4), dt.time(0, 0), tzinfo=dt.UTC):
            cycle = cycle_of(instant, tz, cut)
            start, end = cycle_window_utc(cycle, tz, cut)
            assert start <= instant < end, (tz, cut, instant, cycle, start, end)
            instant += dt.timedelta(minutes=5)


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


def test_dbt_vars_of_a_cycle_with_a_cutoff_end_at_that_cutoff_on_the_cycle_day(tmp_path):
    (tmp_path / "recon.yaml").write_text("pay_cycle:\n  timezone: Europe/Amsterdam\n  cutoff: '17:00'\n")
    settings = load_settings(environ={"RECON_HOME": str(tmp_path), "RECON_CONFIG": str(tmp_path / "recon.yaml")})
    got = dbt_vars_for_cycle("2026-11-10", settings)
    assert (got["cycle_start_utc"], got["cycle_end_utc"]) == ("2026-11-09 16:00:00", "2026-11-10 16:00:00")
    assert got["pay_cycle_cutoff_minutes"] == 17 * 60
