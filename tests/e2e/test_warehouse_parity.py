"""The same inputs give the same marts on DuckDB and on Postgres, row by row: ids, statuses,
rules, amounts, confidences (name similarity is the same Jaro-Winkler on both) and summaries.

Needs the machine's PostgreSQL on 127.0.0.1:5432 (fails, never skips, without it).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from recon_pipeline.scenario.generator import generate_scenario
from tests.e2e.conftest import deliver, make_home, mart_snapshot
from tests.e2e.test_postgres_warehouse import postgres_database  # noqa: F401 - fixture

START = dt.date(2026, 11, 9)


def _comparable(value):
    """Drivers differ in type, not in value: DuckDB returns a double where Postgres has numeric."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _rows(snapshot: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    return {table: sorted((tuple(_comparable(v) for v in row) for row in rows), key=repr)
            for table, rows in snapshot.items()}


def test_the_scenario_gives_identical_marts_on_duckdb_and_postgres(tmp_path, postgres_database):  # noqa: F811
    scenario = generate_scenario(tmp_path / "scenario", start=START, days=3, payments_per_day=12, seed=7,
                                 poison=True)
    through = scenario.cycles[-1].isoformat()
    on_duckdb = make_home(tmp_path / "duckdb")
    on_postgres = make_home(tmp_path / "postgres")
    on_postgres.env["RECON_WAREHOUSE_URL"] = postgres_database
    for home in (on_duckdb, on_postgres):
        deliver(tmp_path / "scenario", home)
        home.run("run", "--through", through)

    duckdb_marts, postgres_marts = _rows(mart_snapshot(on_duckdb)), _rows(mart_snapshot(on_postgres))
    assert all(duckdb_marts[t] for t in ("fct_reconciliation_links", "fct_exceptions", "rpt_close_summary"))
    with on_duckdb.warehouse() as wh:
        name_rule = wh.fetchone("select count(*) from marts.fct_reconciliation_links "
                                "where rule_id = 'R40_amount_date_name'")[0]
    assert name_rule > 0, "the scenario must exercise the name-similarity rule"
    for table in duckdb_marts:
        missing = [r for r in duckdb_marts[table] if r not in postgres_marts[table]]
        extra = [r for r in postgres_marts[table] if r not in duckdb_marts[table]]
        assert not missing and not extra, (f"marts.{table} differs: only on DuckDB {missing[:3]}, "
                                           f"only on Postgres {extra[:3]}")
