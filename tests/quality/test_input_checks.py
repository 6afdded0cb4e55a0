"""The cycle-inputs gate: each check catches its anomaly, injected into clean generated data.

Every test loads a generated week through the real landing zone and loaders, adds one
anomaly, runs the gate for a cycle and asserts the check fails with the offending key in
its evidence (and, for the clean scenario, that every check passes).
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from recon_pipeline.quality import BLOCKING, WARNING, input_check_definitions
from tests.quality.conftest import DE, LAST, NL, START, event_like, failing, only_failures

MON, TUE = LAST - dt.timedelta(days=1), LAST          # 2026-11-09, 2026-11-10
SUNDAY = LAST - dt.timedelta(days=2)                   # 2026-11-08


def _sent(home, day=LAST, currency="EUR"):
    return next(e for e in home.events_on(day) if e["event_type"] == "payment.sent" and e["currency"] == currency)


# ----------------------------------------------------------------------------- clean data
def test_clean_generated_week_passes_every_input_check(loaded_home):
    names = {d.check_name for d in input_check_definitions()}
    for cycle in (START, SUNDAY, MON, TUE):
        report = loaded_home.check(cycle)
        assert {r.check_name for r in report.results} == names
        assert only_failures(report) == {}, {n: r.summary() for n, r in only_failures(report).items()}
        assert report.counts["events"] > 0 and report.counts["bank_lines"] > 0 and report.counts["statements"] == 2
    stored = loaded_home.stored(TUE)
    assert {r["check_name"] for r in stored} == names
    assert all(r["passed"] and r["failing_count"] == 0 for r in stored)


def test_a_cycle_with_no_data_passes_with_nothing_checked(loaded_home):
    report = loaded_home.check(START - dt.timedelta(days=10))
    assert only_failures(report) == {}
    assert report.counts["events"] == 0 and report.counts["bank_lines"] == 0


# ----------------------------------------------------------------------------- events
def test_currency_outside_iso4217_blocks_with_the_event_id(dq_home):
    bad = event_like(_sent(dq_home), event_id="evt-eux-1", currency="EUX")
    dq_home.add_events("inject_eux", [bad])
    dq_home.load()
    result = failing(dq_home.check(LAST), "events_currency_iso4217")
    assert result.severity == BLOCKING and result.blocks
    assert result.failing_keys == ["evt-eux-1"] and result.failing_count == 1
    assert any("EUX" in d for d in result.details)
    evidence = json.loads(next(r for r in dq_home.stored(LAST)
                               if r["check_name"] == "events_currency_iso4217")["evidence"])
    assert evidence["failing_keys"] == ["evt-eux-1"] and evidence["key"] == "event_id"


def test_amount_scale_must_fit_the_currency_minor_units(dq_home):
    template = _sent(dq_home)
    dq_home.add_events("inject_scale", [
        event_like(template, event_id="evt-eur-3dp", amount="10.123"),        # EUR has 2 decimals
        event_like(template, event_id="evt-eur-2dp", amount="10.12"),
        event_like(template, event_id="evt-jpy-frac", amount="1500.5", currency="JPY"),  # JPY has none
        event_like(template, event_id="evt-jpy-whole", amount="1500", currency="JPY"),
        event_like(template, event_id="evt-bhd-3dp", amount="12.345", currency="BHD"),  # BHD has 3
        event_like(template, event_id="evt-eur-trailing-zeros", amount="7.1000"),      # still 2dp money
        event_like(template, event_id="evt-xau", amount="1.12345", currency="XAU"),    # ISO: no minor unit
    ])
    dq_home.load()
    result = failing(dq_home.check(LAST), "events_amount_currency_scale")
    assert result.blocks
    assert sorted(result.failing_keys) == ["evt-eur-3dp", "evt-jpy-frac"]
    assert "evt-eur-3dp: amount 10.123 EUR has 3 decimal(s); EUR has 2" in result.details


def test_event_in_the_future_blocks(dq_home):
    template = _sent(dq_home)
    dq_home.add_events("inject_future", [
        event_like(template, event_id="evt-future", occurred_at=f"{LAST}T23:30:00Z"),
        event_like(template, event_id="evt-just-now", occurred_at=f"{LAST}T22:33:00Z"),   # within clock skew
    ])
    dq_home.load()
    # Checked at 22:30 on the day (the generated events of the day all lie before 22:00).
    now = dt.datetime.combine(LAST, dt.time(22, 30), tzinfo=dt.UTC)
    report = dq_home.check(LAST, now=now)
    result = failing(report, "events_occurred_at_not_in_future")
    assert result.blocks and result.failing_keys == ["evt-future"]
    assert "2026-11-10T23:30:00 UTC is after" in result.details[0]
    # Checked later, once the day is over, the same event is no longer in the future.
    assert dq_home.check(LAST).result("events_occurred_at_not_in_future").passed


def test_same_event_id_with_different_content_blocks_but_identical_redelivery_does_not(dq_home):
    original = _sent(dq_home)
    changed = dict(original, amount=str(Decimal(original["amount"]) + Decimal("100.00")))
    dq_home.add_events("inject_redelivery_same", [dict(original)])
    dq_home.add_events("inject_redelivery_changed", [changed])
    dq_home.load()
    result = failing(dq_home.check(LAST), "events_event_id_conflict")
    assert result.blocks
    assert result.failing_keys == [original["event_id"]]
    assert "amount" in result.details[0]


def test_identical_redeliveries_alone_pass(dq_home):
    original = _sent(dq_home)
    dq_home.add_events("inject_redelivery_same", [dict(original), dict(original)])
    dq_home.load()
    assert dq_home.check(LAST).result("events_event_id_conflict").passed


def test_malformed_account_iban_on_an_event_blocks_and_plain_account_numbers_only_warn(dq_home):
    template = _sent(dq_home)
    broken = DE[:2] + ("00" if DE[2:4] != "00" else "01") + DE[4:]              # wrong check digits
    dq_home.add_events("inject_accounts", [
        event_like(template, event_id="evt-bad-iban", account_iban=broken),
        event_like(template, event_id="evt-plain-account", account_iban="0123456789"),
    ])
    dq_home.load()
    report = dq_home.check(LAST)
    checksum = failing(report, "events_account_iban_checksum")
    assert checksum.blocks and checksum.failing_keys == ["evt-bad-iban"]
    shape = failing(report, "events_account_id_iban_shaped")
    assert shape.severity == WARNING and shape.failing_keys == ["evt-plain-account"]


# ----------------------------------------------------------------------------- statements
def test_broken_balance_proof_is_flagged_with_the_statement_and_the_difference(dq_home):
    path = dq_home.statement_path(NL, MON)
    dq_home.mt940(MON).write(path, closing_adjust=Decimal("1.00"))
    dq_home.load()
    report = dq_home.check(MON)
    result = failing(report, "statement_balance_proof")
    # Flagged, not silently trusted, but the bank's lines still reconcile: a warning.
    assert result.severity == WARNING and not result.blocks and result.failing_count == 1
    assert NL in result.failing_keys[0] and path.name in result.failing_keys[0]
    assert "difference 1.00" in result.details[0]
    # The next day's statement opens where the bank really closed: a continuity warning there.
    next_day = dq_home.check(TUE)
    assert next_day.result("statement_balance_proof").passed
    assert failing(next_day, "statement_continuity").severity == WARNING


def test_opening_balance_that_does_not_continue_the_previous_statement_warns(dq_home):
    stmt = dq_home.mt940(TUE)
    stmt.opening = stmt.opening + Decimal("100.00")
    stmt.write(dq_home.statement_path(NL, TUE))               # still proves internally
    dq_home.load()
    report = dq_home.check(TUE)
    assert report.result("statement_balance_proof").passed
    result = failing(report, "statement_continuity")
    assert result.severity == WARNING and not result.blocks
    assert len(result.failing_keys) == 1 and NL in result.failing_keys[0]
    assert "gap 100.00" in result.details[0]
    assert report.passed                                     # warnings never block


def test_statement_for_a_malformed_iban_is_flagged(dq_home):
    broken = NL[:2] + ("00" if NL[2:4] != "00" else "01") + NL[4:]
    stmt = dq_home.mt940(TUE)
    stmt.set_account(broken)
    stmt.write(dq_home.statement_path(NL, TUE))
    dq_home.load()
    report = dq_home.check(TUE)
    result = failing(report, "statement_account_iban_checksum")
    assert result.severity == WARNING and not result.blocks and broken in result.failing_keys[0]
    # The real NL account sent nothing for Tuesday now: a warning of its own.
    assert failing(report, "statement_missing_on_business_day").failing_keys == [NL]


def test_plain_account_number_statement_only_warns(dq_home):
    stmt = dq_home.mt940(TUE)
    stmt.set_account("987654321")
    stmt.write(dq_home.statement_path(NL, TUE))
    dq_home.load()
    report = dq_home.check(TUE)
    assert report.result("statement_account_iban_checksum").passed
    result = failing(report, "statement_account_id_iban_shaped")
    assert result.severity == WARNING and "987654321" in result.failing_keys[0]
    assert not any(r.blocks for r in report.results)


def test_missing_statement_on_a_business_day_warns_but_not_on_a_weekend(dq_home):
    dq_home.statement_path(DE, TUE).unlink()
    dq_home.statement_path(DE, SUNDAY).unlink()
    dq_home.load()
    tuesday = dq_home.check(TUE)
    result = failing(tuesday, "statement_missing_on_business_day")
    assert result.severity == WARNING and result.failing_keys == [DE]
    assert "last one 2026-11-09" in result.details[0]
    assert dq_home.check(SUNDAY).result("statement_missing_on_business_day").passed


def test_a_day_with_a_fraction_of_the_usual_lines_is_suspicious_volume(dq_home):
    stmt = dq_home.mt940(TUE)
    usual = len(stmt.entries)
    stmt.entries = stmt.entries[::4]                          # a quarter of the day's bookings
    stmt.write(dq_home.statement_path(NL, TUE))               # balances still prove
    dq_home.load()
    report = dq_home.check(TUE)
    result = failing(report, "bank_line_volume")
    assert result.severity == WARNING and result.failing_keys == [NL]
    assert f"{len(stmt.entries)} booked line(s)" in result.details[0] and usual > 2 * len(stmt.entries)
    assert report.result("statement_balance_proof").passed and report.passed


def test_same_bank_reference_booked_twice_with_different_content_warns(dq_home):
    stmt = dq_home.mt940(TUE)
    first = stmt.entries[0]
    stmt.entries.append(stmt.with_amount(first, stmt.amount(first) + Decimal("5.00")))
    stmt.write(dq_home.statement_path(NL, TUE))
    dq_home.load()
    report = dq_home.check(TUE)
    result = failing(report, "staged_lines_bank_reference_unique")
    assert result.severity == WARNING and result.failing_count == 2
    assert all(k.startswith("bl_") for k in result.failing_keys)
    assert any(stmt.bank_reference(first) in d for d in result.details)


def test_the_same_booking_delivered_in_two_files_is_deduplicated_not_flagged(dq_home):
    stmt = dq_home.mt940(TUE)
    stmt.head[0] = stmt.head[0] + "R"                         # a re-sent copy: new bytes, same bookings
    stmt.write(dq_home.statement_path(NL, TUE).with_name(f"resent_{NL}_{TUE}.sta"))
    dq_home.load()
    report = dq_home.check(TUE)
    assert only_failures(report) == {}
    assert report.counts["bank_line_deliveries"] > report.counts["bank_lines"]


# ----------------------------------------------------------------------------- persistence
def test_results_are_replaced_per_cycle_and_other_cycles_are_untouched(dq_home):
    dq_home.add_events("inject_eux", [event_like(_sent(dq_home), event_id="evt-eux-2", currency="EUX")])
    dq_home.load()
    dq_home.check(MON)
    monday_before = dq_home.stored(MON)
    first = dq_home.check(TUE)
    second = dq_home.check(TUE)                                # a re-run replaces, never appends
    assert not first.passed and not second.passed
    tuesday = dq_home.stored(TUE)
    assert len(tuesday) == len({r["check_name"] for r in tuesday}) == len(input_check_definitions())
    assert [r for r in tuesday if not r["passed"]][0]["check_name"] == "events_currency_iso4217"
    assert dq_home.stored(MON) == monday_before
    assert all(r["passed"] for r in monday_before)


@pytest.mark.parametrize("cycle", ["2026-02-30", "tomorrow"])
def test_a_malformed_cycle_is_refused(loaded_home, cycle):
    with pytest.raises(ValueError):
        loaded_home.check(cycle)
