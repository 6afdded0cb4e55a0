"""Dagster as a service on Postgres: a backfill of every cycle at once, launched through the
GraphQL API the UI uses, gives the same marts as `recon run` on the same inputs.

The warehouse is Postgres too, so the instance may run several runs at once
(max_concurrent_runs 8): the input gates fan out one run per cycle, and the dbt build, which
depends on its own previous cycle, gets one run for the whole range and builds it oldest first
(assets/dbt_cycle.py); the close packs fan out again after it.
"""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
import yaml
from dagster import AssetKey, DagsterRunStatus, RunsFilter

from recon_pipeline.scenario.generator import generate_scenario
from recon_pipeline.settings import load_settings
from recon_pipeline.warehouse.connection import open_warehouse
from tests.orchestration.services import (
    BIN,
    LOCATION,
    REPOSITORY,
    DagsterService,
    instance_for,
    recon_env,
    wait_for,
)
from tests.postgres_databases import postgres_databases

# Two cycles with data ending yesterday (today's events would still be in the future, which
# the input checks refuse): the partitions run from first_cycle to today, so "all partitions"
# is those two cycles and today's.
START = dt.date.today() - dt.timedelta(days=2)
MART_TABLES = ["fct_reconciliation_links", "fct_payment_reconciliation", "fct_bank_line_reconciliation",
               "fct_exceptions", "rpt_close_summary"]

LAUNCH_RUN = """
mutation($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}"""
RUN_STATUS = "query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status tags { key value } } } }"
LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on PartitionKeysNotFoundError { message }
  }
}"""
BACKFILL_STATUS = "query($id: String!) { partitionBackfillOrError(backfillId: $id) { __typename ... on PartitionBackfill { status } } }"
FINISHED_BACKFILL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def _home(tmp_path, name: str, scenario_dir, **env):
    home = tmp_path / name
    for sub in ("statements", "events"):
        shutil.copytree(scenario_dir / sub, home / "inbox" / sub)
    (home / "recon.yaml").write_text(yaml.safe_dump({"pay_cycle": {"first_cycle": START.isoformat()}}))
    return recon_env(home, RECON_CONFIG=str(home / "recon.yaml"), **env)


def _marts(env, through: str) -> dict[str, list[tuple]]:
    """Every mart row of the cycles up to ``through``, sorted."""
    with open_warehouse(load_settings(environ=env), read_only=True) as wh:
        return {t: sorted((tuple(r) for r in wh.fetchall(f"select * from marts.{t} where pay_cycle <= ?",
                                                         (dt.date.fromisoformat(through),))), key=repr)
                for t in MART_TABLES}


# Its own waits (ingest 600 s, build 900 s, backfill 1,000 s) say what hangs; the suite's 1,200 s
# default cut the killed-daemon case on a slower machine (left_alone alone took 528 s there).
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("daemon", ["left_alone", "killed_mid_build"])
def test_a_ui_backfill_of_every_cycle_on_postgres_gives_the_marts_of_recon_run(tmp_path, monkeypatch, daemon):
    """``killed_mid_build``: the daemon, its code server and the run building the cycles are
    killed while dbt builds; a new daemon finds the run dead (dead_run_sensor), it is retried,
    and the backfill ends as if nothing happened."""
    scenario = generate_scenario(tmp_path / "scenario", start=START, days=2, payments_per_day=8, seed=5)
    cycles = [c.isoformat() for c in scenario.cycles]
    with postgres_databases(3) as (storage_url, warehouse_a, warehouse_b):
        # Reference: `recon run` on its own warehouse (beside the service, to save time).
        env_a = _home(tmp_path, "a", tmp_path / "scenario", RECON_WAREHOUSE_URL=warehouse_a)
        reference = subprocess.Popen([str(BIN / "recon"), "run", "--through", cycles[-1]], env=env_a,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        env_b = _home(tmp_path, "b", tmp_path / "scenario", RECON_WAREHOUSE_URL=warehouse_b,
                      RECON_DAGSTER_STORAGE_URL=storage_url)
        service = DagsterService(env_b, tmp_path)
        try:
            repo = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
            # Ingestion through the queue, as the UI's launchpad does it.
            launched = service.graphql(LAUNCH_RUN, {"params": {
                "selector": {**repo, "jobName": "ingest_job"}, "runConfigData": {}}})["launchRun"]
            assert launched["__typename"] == "LaunchRunSuccess", launched
            run_id = launched["run"]["runId"]
            status = wait_for(lambda: _finished_run(service, run_id), 600, "the ingest run")
            assert status == "SUCCESS", service.log("daemon")

            # Every cycle's assets, every cycle selected at once: what "Materialize" on the
            # asset graph with all partitions selected sends.
            from orchestration.definitions import build_definitions

            graph = build_definitions(load_settings(environ=env_b)).resolve_asset_graph()
            keys = sorted(k for k in graph.materializable_asset_keys if graph.get(k).is_partitioned)
            assert AssetKey("close_pack") in keys and AssetKey(["marts", "fct_exceptions"]) in keys
            backfill = service.graphql(LAUNCH_BACKFILL, {"params": {
                "assetSelection": [{"path": k.path} for k in keys], "allPartitions": True}})
            backfill = backfill["launchPartitionBackfill"]
            assert backfill["__typename"] == "LaunchBackfillSuccess", backfill
            backfill_id = backfill["backfillId"]
            instance, killed = instance_for(env_b, monkeypatch), None
            if daemon == "killed_mid_build":
                killed = wait_for(lambda: _building_cycles(instance, backfill_id), 900, "the backfill's dbt build")
                service.kill_daemon_and_start_it_again()
            try:
                final = wait_for(lambda: _finished_backfill(service, backfill_id), 1000, "the backfill")
            except AssertionError as timed_out:
                # What the runs say, the killed run's tags (will_retry, auto_retry_run_id) and the
                # daemon's last words: a stuck backfill must be readable from CI's log alone.
                tags = instance.get_run_by_id(killed.run_id).tags if killed else {}
                raise AssertionError(f"{timed_out}\n{_step_failures(instance, backfill_id)}\nkilled run's tags: {tags}\n"
                                     f"{service.log('daemon-restarted' if killed else 'daemon')}") from None
            assert final == "COMPLETED_SUCCESS", _step_failures(instance, backfill_id) or service.log("daemon")

            runs = instance.get_runs(RunsFilter(tags={"dagster/backfill": backfill_id}))
            if daemon == "killed_mid_build":
                # The killed run was marked failed for its dead process and retried once.
                dead = instance.get_run_by_id(killed.run_id)
                assert dead.status == DagsterRunStatus.FAILURE, _step_failures(instance, backfill_id)
                said = [f"{r.dagster_event.event_type_value if r.dagster_event else 'log'}: "
                        f"{(r.dagster_event.message if r.dagster_event else None) or r.user_message}"
                        for r in instance.all_logs(killed.run_id)]
                assert any("marked failed by dead_run_sensor" in line for line in said), "\n".join(said[-8:])
                retries = instance.get_runs(RunsFilter(tags={"dagster/parent_run_id": killed.run_id}))
                assert [r.status for r in retries] == [DagsterRunStatus.SUCCESS], _step_failures(instance, backfill_id)
                runs = [r for r in runs if r.run_id not in {killed.run_id, retries[0].run_id}] + retries
            assert runs and all(r.status == DagsterRunStatus.SUCCESS for r in runs), _step_failures(instance, backfill_id)
            # Every cycle's dbt build ran once, oldest first (cycle N starts from N-1's marts),
            # and each cycle is recorded as materialized and checked in its own partition.
            # (The partitions run to today, whose cycle is still open: it is built last.)
            built = _dbt_builds_in_order(instance, runs)
            assert built == sorted(set(built)) and built[:len(cycles)] == cycles, built
            for cycle in cycles:
                _materialized_at(instance, AssetKey(["marts", "fct_exceptions"]), cycle)
                _checked_in(instance, AssetKey(["marts", "rpt_close_summary"]), cycle)
        finally:
            service.stop()
            output, _ = reference.communicate(timeout=3000)
        assert reference.returncode == 0, output[-3000:]

        expected, actual = _marts(env_a, cycles[-1]), _marts(env_b, cycles[-1])
    assert sum(len(rows) for rows in expected.values()) > 0
    for table in MART_TABLES:
        assert actual[table] == expected[table], f"marts.{table} differs between the backfill and recon run"


def _step_failures(instance, backfill_id: str) -> str:
    """Each backfill run's status and the first line of every failure in it (a failed step, or
    a run that failed before or between steps): the reason, not the daemon's status table."""
    lines = []
    for run in instance.get_runs(RunsFilter(tags={"dagster/backfill": backfill_id})):
        partition = run.tags.get("dagster/partition") or run.tags.get("dagster/asset_partition_range_start")
        lines.append(f"run {run.run_id[:8]} {partition} {run.status.value}")
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            if event is None:
                continue
            if event.event_type_value in ("STEP_SUCCESS", "STEP_SKIPPED", "STEP_UP_FOR_RETRY"):
                lines.append(f"  {event.event_type_value} {event.step_key}")
                continue
            if event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
                lines.append(f"  check failed: {event.event_specific_data.check_name}")
                continue
            if not (event.is_failure or event.is_run_failure or event.is_engine_event and record.level >= 40):
                continue
            error = getattr(event.event_specific_data, "error", None)
            while error is not None and getattr(error, "cause", None) is not None:
                error = error.cause
            message = (error.message if error is not None else event.message or record.user_message) or ""
            lines.append(f"  {event.event_type_value} {event.step_key or ''}: {message.strip()[:600]}")
    return "\n".join(lines) or f"no run of backfill {backfill_id} in the instance"


def _finished_run(service: DagsterService, run_id: str) -> str | None:
    run = service.graphql(RUN_STATUS, {"id": run_id})["runOrError"]
    return run["status"] if run["status"] in ("SUCCESS", "FAILURE", "CANCELED") else None


def _finished_backfill(service: DagsterService, backfill_id: str) -> str | None:
    status = service.graphql(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]["status"]
    return status if status in FINISHED_BACKFILL else None


def _building_cycles(instance, backfill_id: str):
    """The backfill's run that builds the cycles, once dbt is at work in it."""
    for run in instance.get_runs(RunsFilter(tags={"dagster/backfill": backfill_id},
                                            statuses=[DagsterRunStatus.STARTED])):
        if AssetKey(["marts", "fct_exceptions"]) in (run.asset_selection or ()) and any(
                (r.user_message or "").startswith("dbt build of pay cycle") for r in instance.all_logs(run.run_id)):
            return run
    return None


def _dbt_builds_in_order(instance, runs) -> list[str]:
    """The pay cycles dbt built across the backfill's runs, in the order it built them."""
    built = []
    for run in runs:
        for record in instance.all_logs(run.run_id):
            message = record.user_message or ""
            if message.startswith("dbt build of pay cycle "):
                built.append((record.timestamp, message.removeprefix("dbt build of pay cycle ").strip()))
    return [cycle for _, cycle in sorted(built)]


def _checked_in(instance, key: AssetKey, partition: str) -> None:
    from dagster import AssetCheckKey

    checks = [AssetCheckKey(key, "match_rate_vs_trailing_median")]
    records = instance.event_log_storage.get_asset_check_execution_history(checks[0], limit=50)
    partitions = {r.event.dagster_event.event_specific_data.partition for r in records
                  if r.event is not None and r.event.dagster_event is not None
                  and r.event.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert partition in partitions, f"{checks[0].to_user_string()} has no result for {partition}: {partitions}"


def _materialized_at(instance, key: AssetKey, partition: str) -> float:
    from dagster import AssetRecordsFilter

    records = instance.fetch_materializations(AssetRecordsFilter(asset_key=key, asset_partitions=[partition]),
                                              limit=1).records
    assert records, f"{key.to_user_string()} was never materialized for {partition}"
    return records[0].timestamp
