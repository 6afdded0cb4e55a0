"""The SQL that places a payment in a pay cycle (``cycle_date_of`` in macros/portable.sql),
compiled by dbt for DuckDB and for Postgres and run there on the same hand-written table of
worked examples the Python rule is pinned by (tests/unit/pay_cycle_examples.py).

One ``dbt compile --inline`` per adapter renders the real macro for every zone and cut-off of
the table (passed as macro arguments) and once more from the run's vars, the way the models
call it. Postgres must be up on 127.0.0.1:5432: the test fails, it does not skip.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import psycopg
import pytest

from recon_pipeline.cycles import cycle_of
from tests.unit.pay_cycle_examples import AMS, EXAMPLES, cutoff, cutoff_minutes

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
VARS_ZONE, VARS_CUTOFF = AMS, "17:00"          # what the run's vars say, for the models' call

COMBOS = sorted({(e.zone, e.cutoff) for e in EXAMPLES})


def _compile(target: str, tmp: Path, combos=COMBOS, source: str = "examples", with_vars: bool = True) -> str:
    columns = [f"{{{{ cycle_date_of('ts', '{zone}', {cutoff_minutes(cut)}) }}}} as c{i}"
               for i, (zone, cut) in enumerate(combos)]
    if with_vars:
        columns.append("{{ cycle_date_of('ts') }} as c_vars")
    inline = "select i, ts, " + ", ".join(columns) + f" from {source}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECON_")}
    env.update(RECON_DBT_TARGET=target, RECON_DUCKDB_PATH=str(tmp / "compile.duckdb"),
               RECON_PG_DATABASE="postgres", DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    dbt_vars = {"pay_cycle_timezone": VARS_ZONE, "pay_cycle_cutoff_minutes": cutoff_minutes(VARS_CUTOFF)}
    proc = subprocess.run(
        [str(DBT), "compile", "--quiet", "--output", "json", "--inline", inline, "--vars", json.dumps(dbt_vars),
         "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
         "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")],
        env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(proc.stdout[proc.stdout.index("{"):])["compiled"]


def _examples_cte(timestamp_type: str) -> str:
    rows = ", ".join(f"({i}, cast('{e.utc}' as {timestamp_type}))" for i, e in enumerate(EXAMPLES))
    return f"with examples(i, ts) as (values {rows}) "


def _check(rows: list[tuple]) -> None:
    by_index = {r[0]: r for r in rows}
    wrong = []
    for i, e in enumerate(EXAMPLES):
        row = by_index[i]
        got = row[2 + COMBOS.index((e.zone, e.cutoff))].isoformat()
        if got != e.cycle:
            wrong.append(f"{e.zone} cut-off {e.cutoff} at {e.utc} UTC ({e.why}): got {got}, want {e.cycle}")
        if (e.zone, e.cutoff) == (VARS_ZONE, VARS_CUTOFF) and row[-1].isoformat() != e.cycle:
            wrong.append(f"from the run's vars, {e.utc} UTC: got {row[-1].isoformat()}, want {e.cycle}")
    assert not wrong, "\n".join(wrong)


def test_the_duckdb_macro_places_every_worked_example_in_its_cycle(tmp_path):
    sql = _examples_cte("timestamp") + _compile("duckdb", tmp_path)
    with duckdb.connect() as con:
        _check(con.execute(sql).fetchall())


def test_the_postgres_macro_places_every_worked_example_in_its_cycle(tmp_path):
    sql = _examples_cte("timestamp") + _compile("postgres", tmp_path)
    try:
        con = psycopg.connect(ADMIN_URL, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({str(exc).splitlines()[0]})")
    with con:
        _check(con.execute(sql).fetchall())


# Zones whose clocks change by an hour, by half an hour (Lord Howe), at midnight (Santiago: back
# from 00:00 to 23:00 in April, so a 23:30 cut-off lies in its repeated hour), east and west of
# UTC; cut-offs on every half hour the transitions touch.
SWEEP_ZONES = ("Europe/Amsterdam", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Tokyo")
SWEEP_CUTOFFS = ("00:30", "01:00", "01:30", "02:00", "02:30", "03:00", "17:00", "23:00", "23:30")
SWEEP_DAYS = (("2026-03-06", "2026-03-10"), ("2026-03-27", "2026-03-31"), ("2026-04-03", "2026-04-07"),
              ("2026-09-04", "2026-09-08"), ("2026-10-02", "2026-10-06"), ("2026-10-23", "2026-10-27"),
              ("2026-10-30", "2026-11-03"))


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_the_macro_agrees_with_the_python_rule_around_every_clock_change(target, tmp_path):
    """Every five minutes over the days around 2026's clock changes in five zones: the SQL on
    each adapter and the Python rule (pinned above by hand) place each instant in the same cycle."""
    combos = [(zone, cut) for zone in SWEEP_ZONES for cut in SWEEP_CUTOFFS]
    series = " union all ".join(
        f"select g.ts from generate_series(timestamp '{a} 00:00:00', timestamp '{b} 00:00:00', interval '5 minutes') g(ts)"
        for a, b in SWEEP_DAYS)
    sql = f"with sweep as (select row_number() over (order by ts) as i, ts from ({series}) s) "
    sql += _compile(target, tmp_path, combos=combos, source="sweep", with_vars=False)
    if target == "duckdb":
        with duckdb.connect() as con:
            rows = con.execute(sql).fetchall()
    else:
        try:
            con = psycopg.connect(ADMIN_URL, connect_timeout=5)
        except psycopg.OperationalError as exc:
            pytest.fail(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({str(exc).splitlines()[0]})")
        with con:
            rows = con.execute(sql).fetchall()
    wrong = []
    for row in rows:
        instant = row[1].replace(tzinfo=dt.UTC)
        for k, (zone, cut) in enumerate(combos):
            want = cycle_of(instant, zone, cutoff(cut))
            if row[2 + k] != want:
                wrong.append(f"{zone} cut-off {cut} at {row[1]} UTC: SQL {row[2 + k]}, Python {want}")
    assert len(rows) > 5000
    assert not wrong, f"{len(wrong)} disagreements, first: " + "\n".join(wrong[:10])
