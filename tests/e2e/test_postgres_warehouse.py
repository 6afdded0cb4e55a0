"""The same pipeline on Postgres (RECON_WAREHOUSE_URL=postgresql://…) reconciles like DuckDB.

Needs the machine's PostgreSQL on 127.0.0.1:5432 (make test starts it when it is down); when
there is none the test fails and says so, it does not skip.
"""
from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from recon_pipeline.scenario.evaluate import evaluate
from recon_pipeline.scenario.generator import generate_scenario
from tests.clock import past_monday
from tests.e2e.conftest import deliver, make_home

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def postgres_database():
    name = f"recon_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({str(exc).splitlines()[0]}); "
                    "start it with scripts/ensure_postgres.sh")
    with admin:
        admin.execute(f'create database "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'drop database if exists "{name}" with (force)')


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
        result = evaluate(wh, json.loads(scenario.truth_path.read_text()))
    assert result.precision == 1.0 and result.recall == 1.0 and not result.status_mismatches, result.describe()
