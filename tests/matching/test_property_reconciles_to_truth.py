"""Property: any generated scenario, every discrepancy kind mixed in, reconciles exactly to
the generator's truth — link precision and recall 1.0 and every end state as expected.

Hypothesis draws the seed, the number of days, the volume and the mix of kinds. The cycles
are built with dbt in-process (the matching logic under test), not through Dagster, which the
end-to-end tests already cover; each example is a real load + a real dbt build per cycle.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from recon_pipeline.cycles import dbt_vars_for_cycle
from recon_pipeline.dbt_setup import DBT_PROJECT_DIR, dbt_env
from recon_pipeline.landing import LandingZone
from recon_pipeline.scenario.evaluate import evaluate
from recon_pipeline.scenario.generator import DEFAULT_KIND_WEIGHTS, generate_scenario
from recon_pipeline.settings import load_settings
from recon_pipeline.sources.local_inbox import scan_inbox
from recon_pipeline.warehouse.connection import open_warehouse
from recon_pipeline.warehouse.load_events import load_event_files
from recon_pipeline.warehouse.load_statements import load_statement_files
from recon_pipeline.warehouse.source_tables import ensure_source_tables

KINDS = sorted(DEFAULT_KIND_WEIGHTS)


def build_cycles_in_process(home: Path, cycles: list[dt.date]) -> None:
    import json

    from dbt.cli.main import dbtRunner

    settings = load_settings(environ={"RECON_HOME": str(home)})
    os.environ.update(dbt_env(settings))
    runner = dbtRunner()
    for cycle in cycles:
        result = runner.invoke([
            "build", "--quiet", "--exclude-resource-type", "unit_test",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(home / "dbt_target"), "--log-path", str(home / "dbt_logs"),
            "--vars", json.dumps(dbt_vars_for_cycle(cycle.isoformat(), settings))])
        assert result.success, f"dbt build failed for {cycle}: {result.exception or result.result}"


@hyp_settings(max_examples=4, deadline=None, derandomize=True,
              # each example is a real pipeline build: shrinking would take many minutes
              phases=[Phase.explicit, Phase.reuse, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(seed=st.integers(min_value=1, max_value=10_000),
       days=st.integers(min_value=2, max_value=5),
       per_day=st.integers(min_value=4, max_value=16),
       weights=st.lists(st.integers(min_value=1, max_value=5), min_size=len(KINDS), max_size=len(KINDS)))
def test_generated_scenarios_reconcile_exactly_to_their_truth(seed, days, per_day, weights):
    with tempfile.TemporaryDirectory(prefix="recon-prop-") as tmp:
        tmp_path = Path(tmp)
        kinds = {kind: float(w) for kind, w in zip(KINDS, weights)}
        scenario = generate_scenario(tmp_path / "scenario", start=dt.date(2026, 11, 9), days=days,
                                     payments_per_day=per_day, seed=seed, kinds=kinds)
        home = tmp_path / "home"
        settings = load_settings(environ={"RECON_HOME": str(home)})
        settings.ensure_dirs()
        landing = LandingZone(settings.landing_dir)
        scan_inbox(scenario.statements_dir, landing, "statements")
        scan_inbox(scenario.events_dir, landing, "events")
        with open_warehouse(settings) as wh:
            load_statement_files(wh, landing)
            load_event_files(wh, landing)
            ensure_source_tables(wh)   # the ops tables the models read (the pipeline's gate creates them)
        build_cycles_in_process(home, scenario.cycles)
        # dbt-duckdb keeps its connection open in this process: open ours the same way
        with open_warehouse(settings) as wh:
            result = evaluate(wh, scenario.truth)
        assert result.precision == 1.0 and result.recall == 1.0, result.describe()
        assert not result.status_mismatches, result.describe()
