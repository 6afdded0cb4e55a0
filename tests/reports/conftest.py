"""Close-pack fixtures: one generated week built by the real `recon run`, read back as a
reviewer would, and copies of its warehouse that a test may damage and rebuild with dbt.

The copies are how the proof is tested: a bank line dropped from (or counted twice in) the
marts of a copy, then the proof models recomputed by dbt for that cycle, must leave an
unexplained difference; the original week is never touched.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass

import pytest

from recon_pipeline.cycles import dbt_vars_for_cycle
from recon_pipeline.dbt_setup import DBT_PROJECT_DIR, dbt_env, dbt_executable
from recon_pipeline.scenario.generator import generate_scenario
from tests.e2e.conftest import RECON, START, BuiltWeek, ReconHome, deliver, make_home


@pytest.fixture(scope="package")
def pack_week(tmp_path_factory) -> BuiltWeek:
    """Five generated days with every discrepancy kind and poisoned input, through `recon run`."""
    tmp = tmp_path_factory.mktemp("pack_week")
    scenario = generate_scenario(tmp / "scenario", start=START, days=5, payments_per_day=14, seed=7, poison=True)
    home = make_home(tmp)
    deliver(tmp / "scenario", home)
    # like home.run, with room for a loaded machine (five cycles, each a dbt build)
    proc = subprocess.run([RECON, "run", "--through", scenario.cycles[-1].isoformat()], env=home.env,
                          capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return BuiltWeek(home, json.loads(scenario.truth_path.read_text()), [c.isoformat() for c in scenario.cycles], proc)


@dataclass
class WarehouseCopy:
    """A RECON_HOME holding a copy of a built week's warehouse, to damage and rebuild."""

    home: ReconHome

    def dbt(self, cycle: str, *args: str) -> subprocess.CompletedProcess:
        settings = self.home.settings()
        env = {**self.home.env, **dbt_env(settings)}
        proc = subprocess.run(
            [dbt_executable(), *args, "--vars", json.dumps(dbt_vars_for_cycle(cycle, settings)),
             "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
             "--target-path", str(self.home.home / "dbt_target"), "--log-path", str(self.home.home / "dbt_logs")],
            env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        return proc

    def recompute_proof(self, cycle: str) -> None:
        """Rebuild only the proof and summary of the last built cycle (the intermediates are its)."""
        self.dbt(cycle, "run", "--select", "rpt_bank_to_books", "rpt_exceptions", "rpt_close_summary")


@pytest.fixture
def warehouse_copy(pack_week, tmp_path) -> WarehouseCopy:
    home = make_home(tmp_path)
    home.home.mkdir(parents=True)
    source = pack_week.home.settings().duckdb_path
    shutil.copy2(source, home.settings().duckdb_path)
    return WarehouseCopy(home)
