"""Three services over several pay cycles through the real `recon run` (CONTRACT §6).

The generator's participant layer gives a week in which payouts and collections start the
payments and the ledger and gateway report them; one participant never reports, one reports
after the deadline, one late but within it, one with another amount, one with a contradicting
status, one with a disagreement it corrects inside the grace period. Its truth says which
exception each must raise in which cycle. The participants' events arrive in their own
folders (RECON_EVENTS_DIR with several folders). A second home gets the same data without the
participants: the bank side must be identical.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from recon_pipeline.scenario.evaluate import INTERNAL_TYPES, evaluate, expected_internal_exceptions, internal_exceptions
from recon_pipeline.scenario.generator import generate_scenario
from recon_pipeline.scenario.participants import config_yaml
from tests.e2e.conftest import ReconHome, deliver, make_home

START = dt.date(2026, 11, 9)


@dataclass
class Runs:
    tracked: ReconHome        # entry + participants, internal_consistency configured
    entry_only: ReconHome     # the same entry events, no participants, same configuration
    truth: dict
    cycles: list[str]


def _configure(home: ReconHome, *event_dirs: Path) -> None:
    home.home.mkdir(parents=True, exist_ok=True)
    config = home.home / "recon.yaml"
    config.write_text(config_yaml(), encoding="utf-8")
    home.env["RECON_CONFIG"] = str(config)
    home.env["RECON_EVENTS_DIR"] = os.pathsep.join(str(d) for d in event_dirs)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    tmp = tmp_path_factory.mktemp("three_services")
    scenario = generate_scenario(tmp / "scenario", start=START, days=5, payments_per_day=10, seed=11,
                                 participants=True)
    last = scenario.cycles[-1].isoformat()

    tracked = make_home(tmp / "tracked")
    deliver(scenario.out_dir, tracked)
    service_dirs = []
    for folder in scenario.service_events_dirs:   # each participant drops files in its own folder
        target = tracked.home / "inbox" / f"events_{folder.name}"
        shutil.copytree(folder, target)
        service_dirs.append(target)
    _configure(tracked, tracked.inbox_events, *service_dirs)
    tracked.run("run", "--through", last)

    entry_only = make_home(tmp / "entry_only")
    deliver(scenario.out_dir, entry_only)
    _configure(entry_only, entry_only.inbox_events)
    entry_only.run("run", "--through", last)
    return Runs(tracked, entry_only, scenario.truth, [c.isoformat() for c in scenario.cycles])


def _internal_rows(home: ReconHome) -> set[tuple]:
    with home.warehouse() as wh:
        return internal_exceptions(wh)


def _behaviour(truth: dict, behaviour: str) -> dict:
    return next(p for p in truth["internal_consistency"]["participants"] if p["behaviour"] == behaviour)


def test_every_internal_break_is_raised_in_its_cycle_and_nothing_else(runs):
    expected = expected_internal_exceptions(runs.truth, runs.cycles)
    assert {row[1] for row in expected} == set(INTERNAL_TYPES)
    assert _internal_rows(runs.tracked) == expected


def test_a_participant_that_never_reports_stays_missing(runs):
    silent = _behaviour(runs.truth, "never")
    rows = sorted(r for r in _internal_rows(runs.tracked) if r[2] == silent["payment_id"])
    assert rows and all(r[1] == "participant_missing" and r[3] == silent["service"] and r[4] == "open" for r in rows)
    assert rows[-1][0] == runs.cycles[-1]


def test_a_report_after_the_deadline_resolves_its_missing_exception_where_it_lands(runs):
    tardy = _behaviour(runs.truth, "after_deadline")
    rows = sorted(r for r in _internal_rows(runs.tracked) if r[2] == tardy["payment_id"])
    missing = [(r[0], r[4]) for r in rows if r[1] == "participant_missing"]
    landed = next(e for e in tardy["exceptions"] if e["type"] == "participant_missing")["resolved_cycle"]
    assert missing[-1] == (landed, "resolved") and all(s == "open" for _, s in missing[:-1]) and len(missing) >= 2
    assert (landed, "late_report", tardy["payment_id"], tardy["service"], "open") in rows
    with runs.tracked.warehouse() as wh:
        resolution = wh.fetchall("select resolution from marts.fct_exceptions where payment_id = ? "
                                 "and exception_type = 'participant_missing' and status = 'resolved'",
                                 (tardy["payment_id"],))
    assert resolution == [("auto_cleared",)]


def test_a_late_report_within_the_deadline_is_late_only(runs):
    late = _behaviour(runs.truth, "late_within")
    types = {r[1] for r in _internal_rows(runs.tracked) if r[2] == late["payment_id"]}
    assert types == {"late_report"}


def test_disagreements_carry_the_service_and_both_values_and_are_routed(runs):
    amount = _behaviour(runs.truth, "amount")
    status = _behaviour(runs.truth, "status")
    with runs.tracked.warehouse() as wh:
        rows = {r["exception_type"]: r for r in wh.fetch_dicts(
            "select * from marts.fct_exceptions where pay_cycle = ? and exception_type in "
            "('internal_amount_mismatch', 'internal_status_mismatch')", (dt.date.fromisoformat(runs.cycles[-1]),))}
    truth_amount = next(p for p in runs.truth["payments"] if p["payment_id"] == amount["payment_id"])["amount"]
    a = rows["internal_amount_mismatch"]
    assert (a["payment_id"], a["service"]) == (amount["payment_id"], amount["service"])
    assert float(a["expected_value"]) == float(truth_amount) and a["reported_value"] != a["expected_value"]
    assert a["amount_difference"] != 0 and (a["assigned_team"], a["priority"]) == ("platform", "P1")
    s = rows["internal_status_mismatch"]
    assert (s["payment_id"], s["service"]) == (status["payment_id"], status["service"])
    assert (s["expected_value"], s["reported_value"]) == ("completed", "failed")
    assert s["age_days"] == (dt.date.fromisoformat(runs.cycles[-1]) - dt.date.fromisoformat(status["pay_cycle"])).days


def test_a_disagreement_inside_the_grace_period_is_in_flight_not_a_break(runs):
    flight = _behaviour(runs.truth, "in_flight")
    assert flight["exceptions"] == []
    assert not [r for r in _internal_rows(runs.tracked) if r[2] == flight["payment_id"]]
    with runs.tracked.warehouse() as wh:
        status = wh.fetchall("select internal_status from marts.fct_payment_reconciliation "
                             "where payment_id = ? and pay_cycle = ?",
                             (flight["payment_id"], dt.date.fromisoformat(flight["pay_cycle"])))
    assert status == [("awaiting_reports",)]


def test_internal_status_says_break_consistent_or_awaiting(runs):
    last = dt.date.fromisoformat(runs.cycles[-1])
    open_breaks = {r[2] for r in _internal_rows(runs.tracked) if r[0] == runs.cycles[-1] and r[4] == "open"}
    with runs.tracked.warehouse() as wh:
        statuses = dict(wh.fetchall("select payment_id, internal_status from marts.fct_payment_reconciliation "
                                    "where pay_cycle = ?", (last,)))
    assert statuses and set(statuses.values()) <= {"consistent", "awaiting_reports", "break"}
    assert {p for p, s in statuses.items() if s == "break"} == open_breaks & set(statuses)
    assert "consistent" in statuses.values()


def _bank_side(home: ReconHome) -> dict[str, list[tuple]]:
    with home.warehouse() as wh:
        return {
            "links": sorted(wh.fetchall("select match_id, payment_id, bank_line_id, rule_id, confidence, pay_cycle "
                                        "from marts.fct_reconciliation_links")),
            "payments": sorted(wh.fetchall("select payment_id, pay_cycle, payment_status, recon_status, "
                                           "exception_type, amount from marts.fct_payment_reconciliation")),
            "bank_lines": sorted(wh.fetchall("select bank_line_id, pay_cycle, recon_status, exception_type "
                                             "from marts.fct_bank_line_reconciliation"), key=repr),
            "bank_exceptions": sorted(wh.fetchall(
                "select exception_id, pay_cycle, exception_type, status from marts.fct_exceptions "
                f"where exception_type not in {INTERNAL_TYPES}")),
        }


def test_the_bank_side_is_identical_with_or_without_the_other_services(runs):
    tracked, entry_only = _bank_side(runs.tracked), _bank_side(runs.entry_only)
    assert tracked["links"] and tracked == entry_only
    with runs.tracked.warehouse() as wh:
        result = evaluate(wh, runs.truth)
    assert result.precision == 1.0 and result.recall == 1.0, result.describe()
    assert not result.status_mismatches, result.describe()


def test_the_internal_consistency_sheet_counts_each_participant(runs):
    from openpyxl import load_workbook

    last = runs.cycles[-1]
    sheet = load_workbook(runs.tracked.settings().close_pack_path(last))["Internal consistency"]
    rows = [[c.value for c in r] for r in sheet.iter_rows() if r[0].value]
    header_at = next(i for i, r in enumerate(rows) if r[0] == "Service")
    header = rows[header_at]
    table = {r[0]: dict(zip(header, r)) for r in rows[header_at + 1:]}
    assert set(table) >= {"ledger", "gateway"}
    open_rows = [r for r in _internal_rows(runs.tracked) if r[0] == last and r[4] == "open"]
    for service, row in table.items():
        assert row["Missing"] == sum(1 for r in open_rows if r[3] == service and r[1] == "participant_missing")
        assert row["Late"] == sum(1 for r in open_rows if r[3] == service and r[1] == "late_report")
        assert row["Disagreeing"] == sum(1 for r in open_rows if r[3] == service and r[1].startswith("internal_"))
    assert sum(r["Missing"] + r["Late"] + r["Disagreeing"] for r in table.values()) == len(open_rows)


def test_without_the_section_nothing_is_tracked(runs, tmp_path):
    """All three services' events, no internal_consistency section: §6 does not run."""
    home = make_home(tmp_path)
    scenario_dir = Path(runs.truth["internal_consistency"]["event_dirs"][0]).parents[1]
    deliver(scenario_dir, home)
    extra = [Path(d) for d in runs.truth["internal_consistency"]["event_dirs"]]
    home.env["RECON_EVENTS_DIR"] = os.pathsep.join(str(d) for d in [home.inbox_events, *extra])
    first = runs.cycles[0]
    home.run("run", "--through", first)
    with home.warehouse() as wh:
        assert wh.fetchall("select distinct internal_status from marts.fct_payment_reconciliation") == \
            [("not_tracked",)]
        assert wh.fetchall(f"select count(*) from marts.fct_exceptions where exception_type in {INTERNAL_TYPES}") \
            == [(0,)]
        events = wh.fetchall("select count(distinct service) from raw.payment_events")
    assert events[0][0] == 4   # payouts, collections, ledger, gateway: every folder was read
    assert "Internal consistency" not in __import__("openpyxl").load_workbook(
        home.settings().close_pack_path(first)).sheetnames


def test_the_dagster_ui_shows_each_cycles_participant_figures_as_check_metadata(runs):
    from dagster import AssetCheckKey, AssetKey, DagsterInstance

    key = AssetCheckKey(AssetKey(["marts", "rpt_internal_consistency"]), "internal_consistency")
    with DagsterInstance.from_config(str(runs.tracked.home / "dagster")) as instance:
        history = instance.event_log_storage.get_asset_check_execution_history(key, limit=50)
    evaluations = {}
    for record in history:
        data = record.event.dagster_event.event_specific_data
        evaluations.setdefault(data.partition, data)
    assert set(evaluations) == set(runs.cycles)
    last = evaluations[runs.cycles[-1]]
    open_rows = [r for r in _internal_rows(runs.tracked) if r[0] == runs.cycles[-1] and r[4] == "open"]
    assert not last.passed and last.severity.value == "WARN"
    per = last.metadata["per_participant"].value
    for service, counts in per.items():
        assert counts["missing"] == sum(1 for r in open_rows if r[3] == service and r[1] == "participant_missing")
        assert counts["disagreeing"] == sum(1 for r in open_rows if r[3] == service and r[1].startswith("internal_"))
