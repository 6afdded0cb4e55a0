"""The same pipeline on Postgres (RECON_WAREHOUSE_URL=postgresql://…) reconciles like DuckDB.

Needs the machine's PostgreSQL on 127.0.0.1:5432 (make test starts it when it is down); when
there is none the test fails and says so, it does not skip.
"""
from __future__ import annotations

import json

import pytest

from recon_pipeline.scenario.evaluate import evaluate
from recon_pipeline.scenario.generator import generate_scenario
from tests.clock import past_monday
from tests.e2e.conftest import deliver, make_home
from tests.e2e.money_checks import (
    assert_marts_tie_to_truth,
    assert_missing_in_bank_ties_to_truth,
    assert_money_columns_are_decimal,
)
from tests.postgres_databases import postgres_databases


@pytest.fixture
def postgres_database():
    with postgres_databases(1) as (url,):
        yield url


def test_three_cycles_on_postgres_reconcile_exactly_to_the_truth(tmp_path, postgres_database):
    scenario = generate_scenario(tmp_path / "scenario", start=past_monday(), days=3,
                                 payments_per_day=10, seed=11)
    home = make_home(tmp_path)
    home.env["RECON_WAREHOUSE_URL"] = postgres_database
    deliver(tmp_path / "scenario", home)
    proc = home.run("run", "--through", scenario.cycles[-1].isoformat())
    assert all(f"cycle {c.isoformat()}:" in proc.stdout for c in scenario.cycles)
    assert not (home.home / "warehouse.duckdb").exists()
    with home.warehouse() as wh:
        assert wh.kind == "postgres"
        truth = json.loads(scenario.truth_path.read_text())
        result = evaluate(wh, truth)
        assert result.precision == 1.0 and result.recall == 1.0 and not result.status_mismatches, result.describe()
        assert_money_columns_are_decimal(wh)
        assert_marts_tie_to_truth(wh, truth)
        assert_missing_in_bank_ties_to_truth(wh, truth)
