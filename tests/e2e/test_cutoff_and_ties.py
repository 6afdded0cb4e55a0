"""A scenario with a pay-cycle time zone and cut-off, and ties, through `recon run` on DuckDB and
on Postgres, checked against its truth.

Amsterdam with a 17:00 cut-off (CONTRACT §2: a payment sent at 17:30 on the 9th belongs to the
10th): payments sent seconds either side of the cut-off must land in the cycle the contract
gives them and match their bank line there. Ties (two payments to the same beneficiary, same
amount and day, one bank line without a reference) must reach fct_exceptions and the close pack
as ``ambiguous_match``, never be linked to whichever payment comes first.
"""
from __future__ import annotations

import datetime as dt
import json

from recon_pipeline.scenario.evaluate import evaluate
from recon_pipeline.scenario.generator import DEFAULT_KIND_WEIGHTS, generate_scenario
from tests.clock import past_monday
from tests.e2e.conftest import deliver, make_home
from tests.e2e.money_checks import (
    assert_marts_tie_to_truth,
    assert_missing_in_bank_ties_to_truth,
    assert_money_columns_are_decimal,
    assert_pack_exceptions_tie_to_warehouse,
)

ZONE, CUTOFF = "Europe/Amsterdam", dt.time(17, 0)
KINDS = {**DEFAULT_KIND_WEIGHTS, "cutoff_edge": 120, "tie": 4}


def _run(tmp_path, warehouse_url: str | None):
    scenario = generate_scenario(tmp_path / "scenario", start=past_monday(), days=5, payments_per_day=9,
                                 seed=17, kinds=KINDS, timezone=ZONE, cutoff=CUTOFF)
    home = make_home(tmp_path)
    config = tmp_path / "recon.yaml"
    config.write_text(f"pay_cycle:\n  timezone: {ZONE}\n  cutoff: '{CUTOFF:%H:%M}'\n", encoding="utf-8")
    home.env["RECON_CONFIG"] = str(config)
    if warehouse_url:
        home.env["RECON_WAREHOUSE_URL"] = warehouse_url
    deliver(tmp_path / "scenario", home)
    proc = home.run("run", "--through", scenario.last_cycle.isoformat())
    assert all(f"cycle {c.isoformat()}:" in proc.stdout for c in scenario.cycles), proc.stdout
    return home, json.loads(scenario.truth_path.read_text(encoding="utf-8"))


def _check(home, truth) -> None:
    last = dt.date.fromisoformat(truth["last_cycle"])
    edge = [p for p in truth["payments"] if p["kind"] == "cutoff_edge"]
    tie_lines = [ln for ln in truth["bank_lines"] if ln["kind"] == "tie"]
    assert len(edge) >= 4 and tie_lines, "the scenario must hold payments at the cut-off and ties"
    with home.warehouse() as wh:
        result = evaluate(wh, truth)
        assert result.precision == 1.0 and result.recall == 1.0 and not result.status_mismatches, result.describe()

        first_cycle = {r[0]: r[1].isoformat() for r in wh.fetchall(
            "select payment_id, min(pay_cycle) from marts.fct_payment_reconciliation group by payment_id")}
        wrong = {p["payment_id"]: (first_cycle.get(p["payment_id"]), p["pay_cycle"]) for p in edge
                 if first_cycle.get(p["payment_id"]) != p["pay_cycle"]}
        assert not wrong, f"payments at the cut-off in the wrong cycle (got, want): {wrong}"

        tie_ids = {r[0]: r[1] for r in wh.fetchall(
            "select distinct bank_reference, bank_line_id from marts.fct_bank_line_reconciliation")}
        ambiguous = {r[0]: r[1] for r in wh.fetchall(
            "select bank_line_id, exception_id from marts.fct_exceptions "
            "where pay_cycle = ? and exception_type = 'ambiguous_match' and status = 'open'", (last,))}
        for line in tie_lines:
            assert tie_ids[line["bank_reference"]] in ambiguous, f"tie {line['bank_reference']} not ambiguous_match"

        assert_money_columns_are_decimal(wh)
        assert_marts_tie_to_truth(wh, truth)
        assert_missing_in_bank_ties_to_truth(wh, truth)
        rows = assert_pack_exceptions_tie_to_warehouse(home.settings().close_pack_path(last.isoformat()), wh, last)
    for line in tie_lines:
        row = rows[ambiguous[tie_ids[line["bank_reference"]]]]
        assert line["bank_reference"] in [str(c) for c in row if c is not None], row


def test_cutoff_payments_and_ties_reconcile_to_the_truth_on_duckdb(tmp_path):
    home, truth = _run(tmp_path, None)
    _check(home, truth)


def test_cutoff_payments_and_ties_reconcile_to_the_truth_on_postgres(tmp_path, postgres_database):
    home, truth = _run(tmp_path, postgres_database)
    _check(home, truth)
