"""Checks on the marts after dbt: reconciliation-link sanity and the match-rate drop (warnings).

The mart tables are written here with the columns dbt gives them, because what is under
test is the judgement on their contents, not dbt.
"""
from __future__ import annotations

import datetime as dt

import pytest

from recon_pipeline.quality import check_cycle_marts, input_check_definitions, run_mart_checks
from tests.quality.conftest import DE, LAST, NL

CYCLE = LAST


def _summary(wh, rows):
    wh.execute("create schema if not exists marts")
    wh.execute("create or replace table marts.rpt_close_summary (pay_cycle date, account_iban varchar, "
               "match_rate decimal(9,4), payments_count bigint)")
    wh.executemany("insert into marts.rpt_close_summary values (?, ?, ?, ?)", rows)


def _links(wh, rows):
    wh.execute("create schema if not exists marts")
    wh.execute("create or replace table marts.fct_reconciliation_links (match_id varchar, payment_id varchar, "
               "bank_line_id varchar, rule_id varchar, confidence decimal(5,4), pay_cycle date)")
    wh.executemany("insert into marts.fct_reconciliation_links values (?, ?, ?, ?, ?, ?)", rows)


def _history(account, rates, payments=20):
    """``rates`` oldest first, the last one for CYCLE."""
    n = len(rates)
    return [(CYCLE - dt.timedelta(days=n - 1 - i), account, rate, payments) for i, rate in enumerate(rates)]


@pytest.fixture
def marts_home(dq_home):
    dq_home.root.mkdir(parents=True, exist_ok=True)
    with dq_home.warehouse() as wh:
        _links(wh, [("m1", "p1", "bl_1", "exact_reference", "1.0000", CYCLE),
                    ("m2", "p2", "bl_2", "batch", "0.9000", CYCLE),
                    ("m2", "p3", "bl_2", "batch", "0.9000", CYCLE)])
    return dq_home


def test_a_match_rate_far_below_the_trailing_median_warns_per_account(marts_home):
    with marts_home.warehouse() as wh:
        _summary(wh, _history(DE, ["0.9000", "0.8500", "0.9500", "0.9000", "0.6500"])
                 + _history(NL, ["0.9000", "0.8500", "0.9500", "0.9000", "0.7500"]))
        report = run_mart_checks(wh, CYCLE.isoformat())
    drop = report.result("match_rate_vs_trailing_median")
    assert not drop.passed and drop.severity == "warning"
    assert drop.failing_keys == [DE]                      # 0.65 < 0.90 - 0.20; NL's 0.75 is not
    assert "match rate 0.65" in drop.details[0] and "median 0.9" in drop.details[0]


def test_match_rate_is_not_judged_without_history_or_on_a_handful_of_payments(marts_home):
    with marts_home.warehouse() as wh:
        _summary(wh, _history(DE, ["0.9500", "0.1000"])                        # one earlier cycle only
                 + _history(NL, ["0.9000", "0.9000", "0.9000", "0.2000"])[:-1]
                 + [(CYCLE, NL, "0.2000", 4)])                                # 4 payments: noise
        report = run_mart_checks(wh, CYCLE.isoformat())
    drop = report.result("match_rate_vs_trailing_median")
    assert drop.passed and drop.rows_checked == 0


def test_sane_links_pass(marts_home):
    with marts_home.warehouse() as wh:
        _summary(wh, _history(DE, ["0.9", "0.9", "0.9", "0.9"]))
        report = run_mart_checks(wh, CYCLE.isoformat())
    assert [r.summary() for r in report.results if not r.passed] == []


def test_a_bank_line_in_two_matches_and_a_confidence_above_one_warn(marts_home):
    with marts_home.warehouse() as wh:
        _summary(wh, [])
        _links(wh, [("m1", "p1", "bl_1", "exact_reference", "1.0000", CYCLE - dt.timedelta(days=1)),
                    ("m9", "p9", "bl_1", "amount_date_name", "1.2000", CYCLE),
                    ("m2", "p2", "bl_2", "batch", "0.9000", CYCLE)])
        report = run_mart_checks(wh, CYCLE.isoformat())
    double = report.result("links_bank_line_in_one_match")
    assert not double.passed and double.failing_keys == ["m9/p9/bl_1"]
    assert not report.result("links_confidence_range").passed
    assert report.result("links_confidence_range").failing_keys == ["m9/p9/bl_1"]
    assert report.passed                                  # warnings only


def test_mart_results_replace_their_own_rows_and_leave_the_input_gate_rows(loaded_home):
    loaded_home.check(CYCLE)
    with loaded_home.warehouse() as wh:
        _summary(wh, _history(DE, ["0.9", "0.9", "0.9", "0.3"]))
        _links(wh, [("m1", "p1", "bl_1", "exact_reference", "1.0000", CYCLE)])
        check_cycle_marts(wh, CYCLE.isoformat())
        check_cycle_marts(wh, CYCLE.isoformat())
    rows = {r["check_name"]: r for r in loaded_home.stored(CYCLE)}
    assert rows["match_rate_vs_trailing_median"]["passed"] is False
    assert rows["match_rate_vs_trailing_median"]["dataset"] == "rpt_close_summary"
    assert all(d.check_name in rows for d in input_check_definitions())
    assert len(loaded_home.stored(CYCLE)) == len(rows)
    loaded_home.check(CYCLE)                              # the input gate re-runs: mart rows stay
    assert "match_rate_vs_trailing_median" in {r["check_name"] for r in loaded_home.stored(CYCLE)}


def test_mart_checks_before_dbt_built_the_marts_fail_with_the_reason(dq_home):
    dq_home.root.mkdir(parents=True, exist_ok=True)
    with dq_home.warehouse() as wh:
        report = run_mart_checks(wh, CYCLE.isoformat())
    assert all(not r.passed and "does not exist" in (r.error or "") for r in report.results)
