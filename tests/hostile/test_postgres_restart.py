"""Postgres restarted under a running `recon run` (issue #16, faults): the run ends in success or
in a clear one-line failure, and the next run ends where a clean run ends, nothing lost or
doubled. The warehouse and Dagster's run storage are both on a Postgres server of the test's
own (tests/private_postgres.py), restarted with `pg_ctl restart -m fast` while the second
cycle's dbt build is running: every connection is cut mid-statement."""
from __future__ import annotations

import datetime as dt
import subprocess
import threading
import time

import psycopg

from recon_pipeline.scenario.generator import generate_scenario
from recon_pipeline.settings import load_settings
from recon_pipeline.warehouse.connection import open_warehouse
from tests.e2e.conftest import RECON, deliver, make_home
from tests.hostile.test_killed_run import collect_lines, dbt_step_started
from tests.private_postgres import private_postgres

START = dt.date(2026, 11, 9)
# What was loaded (by identity and amount; file paths differ between homes) and every mart row.
TABLES = {
    "raw.statement_lines": "bank_line_id, source_sha256, position, amount",
    "raw.payment_events": "message_key, event_id, amount",
    "marts.fct_reconciliation_links": "*",
    "marts.fct_payment_reconciliation": "*",
    "marts.fct_bank_line_reconciliation": "*",
    "marts.fct_exceptions": "*",
    "marts.rpt_close_summary": "*",
}


def _rows(env: dict) -> dict[str, list[tuple]]:
    with open_warehouse(load_settings(environ=env), read_only=True) as wh:
        return {table: sorted((tuple(r) for r in wh.fetchall(f"select {columns} from {table}")), key=repr)
                for table, columns in TABLES.items()}


def _statement_running(server) -> bool:
    """A statement of the build is executing in the warehouse right now."""
    with psycopg.connect(server.url, autocommit=True) as con:
        return bool(con.execute("select count(*) from pg_stat_activity where datname = 'warehouse' "
                                "and state = 'active' and pid <> pg_backend_pid()").fetchone()[0])


def test_postgres_restarted_mid_build_fails_clearly_and_the_next_run_ends_where_a_clean_run_ends(tmp_path):
    scenario = generate_scenario(tmp_path / "scenario", start=START, days=3, payments_per_day=8, seed=4)
    cycles = [c.isoformat() for c in scenario.cycles]
    with private_postgres() as server:
        restarted = make_home(tmp_path / "restarted")
        deliver(tmp_path / "scenario", restarted)
        restarted.env.update(RECON_WAREHOUSE_URL=server.create_database("warehouse"),
                             RECON_DAGSTER_STORAGE_URL=server.create_database("dagster"))
        proc = subprocess.Popen([RECON, "run", "--through", cycles[-1]], env=restarted.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: list[str] = []
        reader = threading.Thread(target=collect_lines, args=(proc, lines), daemon=True)
        reader.start()
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and proc.poll() is None:
            if dbt_step_started(lines, cycles[1]) and _statement_running(server):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before the second cycle's dbt build:\n" + "\n".join(lines[-30:])
        lines.append("--- restarted here")
        server.restart()
        proc.wait(timeout=900)
        reader.join(timeout=30)

        if proc.returncode != 0:
            # A clear failure: the last line says which cycle failed and why, in one line.
            last = [line for line in lines if line.strip()][-1]
            assert cycles[1] in last, "\n".join(lines[-30:])
            # (which words depends on the moment: a statement cut off, or a new connection
            # refused while the server shuts down or starts up)
            assert any(word in last.lower() for word in ("connection", "server", "terminat", "database system")), \
                "\n".join(lines[-30:])
            assert len(last) < 1000 and "Traceback" not in "\n".join(lines), "\n".join(lines[-30:])

        first_run = "\n".join(lines)
        again = restarted.run("run", "--through", cycles[-1])
        assert f"cycle {cycles[-1]}: " in again.stdout, first_run + "\n---\n" + again.stdout

        clean = make_home(tmp_path / "clean")
        deliver(tmp_path / "scenario", clean)
        clean.env.update(RECON_WAREHOUSE_URL=server.create_database("clean_warehouse"))
        clean.run("run", "--through", cycles[-1])

        expected, actual = _rows(clean.env), _rows(restarted.env)
    assert sum(len(rows) for rows in expected.values()) > 0
    for table in TABLES:
        assert actual[table] == expected[table], f"{table} differs from a clean run after the restart"
