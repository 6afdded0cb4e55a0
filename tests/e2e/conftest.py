"""End-to-end fixtures: generated scenarios run through the real `recon` command.

The pipeline runs in a subprocess exactly as a user runs it (`recon run`), against a
temporary RECON_HOME, so the tests see the same exit codes, files and warehouse a user
would. One generated week is built once per module and shared by the tests that only read;
a test that changes a week (rebuild, re-delivery, an operator decision) takes ``own_week``, a
private copy of the whole RECON_HOME (warehouse, landing zone, Dagster instance, inbox), so
the tests pass alone and in any order. Scenarios are dated relative to today (tests/clock.py).
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from recon_pipeline.scenario.generator import generate_scenario
from tests.clock import past_monday
from tests.postgres_databases import postgres_databases

RECON = str(Path(sys.executable).with_name("recon"))
START = past_monday()


@dataclass
class ReconHome:
    home: Path
    env: dict

    def run(self, *args: str, check: bool = True, timeout: int = 3600) -> subprocess.CompletedProcess:
        proc = subprocess.run([RECON, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"recon {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n"
                                 f"{proc.stderr[-3000:]}")
        return proc

    @property
    def inbox_statements(self) -> Path:
        return self.home / "inbox" / "statements"

    @property
    def inbox_events(self) -> Path:
        return self.home / "inbox" / "events"

    def settings(self):
        from recon_pipeline.settings import load_settings

        return load_settings(environ=self.env)

    def warehouse(self):
        from recon_pipeline.warehouse.connection import open_warehouse

        return open_warehouse(self.settings(), read_only=True)


def make_home(tmp: Path) -> ReconHome:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "DAGSTER_"))}
    env["RECON_HOME"] = str(tmp / "home")
    return ReconHome(tmp / "home", env)


def deliver(scenario_dir: Path, home: ReconHome) -> None:
    """Drop a generated scenario's files into the home's inbox folders."""
    for sub, target in (("statements", home.inbox_statements), ("events", home.inbox_events)):
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted((scenario_dir / sub).iterdir()):
            shutil.copy2(path, target / path.name)


@pytest.fixture
def postgres_database():
    """A throwaway database on the machine's Postgres (uuid name), dropped after the test.
    No Postgres is a failure, not a skip."""
    with postgres_databases(1) as (url,):
        yield url


@dataclass
class BuiltWeek:
    home: ReconHome
    truth: dict
    cycles: list[str]
    first_run: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def built_week(tmp_path_factory) -> BuiltWeek:
    """Five generated days with every discrepancy kind, plus poisoned input, built by `recon run`."""
    tmp = tmp_path_factory.mktemp("week")
    scenario = generate_scenario(tmp / "scenario", start=START, days=5, payments_per_day=14, seed=7, poison=True)
    home = make_home(tmp)
    deliver(tmp / "scenario", home)
    last = scenario.cycles[-1].isoformat()
    proc = home.run("run", "--through", last)
    return BuiltWeek(home, json.loads(scenario.truth_path.read_text()), [c.isoformat() for c in scenario.cycles], proc)


@pytest.fixture
def own_week(built_week, tmp_path) -> BuiltWeek:
    """A private copy of the built week, for a test that changes it. The home is copied whole
    while nothing runs in it (the DuckDB file with its WAL, the Dagster instance's storage, the
    landing zone and the inbox), and the copy's settings point at the copy only."""
    home = make_home(tmp_path)
    shutil.copytree(built_week.home.home, home.home, symlinks=True)
    return dataclasses.replace(built_week, home=home)


def mart_snapshot(home: ReconHome) -> dict[str, list[tuple]]:
    """Every row of every contract mart, sorted: equal snapshots mean identical marts."""
    tables = ["fct_reconciliation_links", "fct_payment_reconciliation", "fct_bank_line_reconciliation",
              "fct_exceptions", "rpt_close_summary"]
    with home.warehouse() as wh:
        return {t: sorted((tuple(r) for r in wh.fetchall(f"select * from marts.{t}")), key=repr) for t in tables}
