"""One run over a range of pay cycles, as a backfill of every cycle gives the dbt build: the
cycles are built oldest first, each as its own run would build it, and a cycle that fails
stops the range there, named, with the cycles before it built and recorded as such.

Real dbt on a DuckDB home; the run is executed in-process with the partition-range tags the
backfill daemon puts on its run (the daemon itself: tests/orchestration/test_backfill_under_daemon.py).
"""
from __future__ import annotations

import datetime as dt

from dagster import AssetKey, AssetRecordsFilter, DagsterEventType
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from recon_pipeline.scenario.generator import generate_scenario
from recon_pipeline.warehouse.connection import open_warehouse
from tests.e2e.conftest import deliver, make_home

MARTS = ["fct_reconciliation_links", "fct_payment_reconciliation", "fct_bank_line_reconciliation", "fct_exceptions"]
FCT_EXCEPTIONS = AssetKey(["marts", "fct_exceptions"])
LINKS = AssetKey(["marts", "fct_reconciliation_links"])
SUMMARY = AssetKey(["marts", "rpt_close_summary"])


def _marts(home, through: dt.date) -> dict[str, list[tuple]]:
    with home.warehouse() as wh:
        return {t: sorted((tuple(r) for r in wh.fetchall(f"select * from marts.{t} where pay_cycle <= ?",
                                                         (through,))), key=repr) for t in MARTS}


def _range_run(home, monkeypatch, first: dt.date, last: dt.date):
    """The dbt build (and the checks on it) over ``first..last`` in one run, as the daemon launches it."""
    from orchestration.runner import load_definitions

    for name, value in home.env.items():
        if name.startswith("RECON_"):
            monkeypatch.setenv(name, value)
    defs, instance = load_definitions(home.settings(), echo=lambda _line: None)
    dbt_unit = defs.resolve_assets_def(FCT_EXCEPTIONS)
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        instance=instance, asset_selection=list(dbt_unit.keys), raise_on_error=False,
        tags={ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()})
    materialized = {e.dagster_event.event_specific_data.materialization.partition
                    for e in instance.all_logs(result.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
                    if e.dagster_event.asset_key == FCT_EXCEPTIONS}
    built = [e.user_message for e in instance.all_logs(result.run_id)
             if (e.user_message or "").startswith("dbt build of pay cycle")]
    return result, materialized, built, instance


def _evaluation(instance, run_id: str, key: AssetKey, check: str, partition: str):
    """The target materialization of ``check``'s evaluation for ``partition`` in the run (fails if there is none)."""
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data
        if evaluation.asset_key == key and evaluation.check_name == check and evaluation.partition == partition:
            return evaluation.target_materialization_data
    raise AssertionError(f"no {check} evaluation for {partition} in run {run_id[:8]}")


def test_a_range_run_builds_cycles_in_order_and_stops_at_the_cycle_that_fails(tmp_path, monkeypatch):
    days = [dt.date(2026, 11, 10) + dt.timedelta(days=i) for i in range(3)]
    generate_scenario(tmp_path / "scenario", start=days[0], days=3, payments_per_day=6, seed=11)
    home = make_home(tmp_path)
    deliver(tmp_path / "scenario", home)
    monkeypatch.chdir(tmp_path)
    home.run("run", "--through", days[-1].isoformat())
    cycle_by_cycle = _marts(home, days[-1])
    assert cycle_by_cycle["fct_exceptions"], "the scenario should carry exceptions from cycle to cycle"

    # The same cycles rebuilt as one range: the marts of building them one run each.
    result, materialized, built, instance = _range_run(home, monkeypatch, days[0], days[-1])
    assert result.success
    assert materialized == {d.isoformat() for d in days}
    assert built == [f"dbt build of pay cycle {d.isoformat()}" for d in days]
    # Each cycle's dbt tests and mart checks are its own, on its own materialization: the UI
    # shows them as current for every cycle of the range.
    for key, check in ((LINKS, "assert_bank_line_in_one_match"), (SUMMARY, "match_rate_vs_trailing_median")):
        for day in days:
            target = _evaluation(instance, result.run_id, key, check, day.isoformat())
            latest = instance.fetch_materializations(
                AssetRecordsFilter(asset_key=key, asset_partitions=[day.isoformat()]), limit=1).records[0]
            assert target is not None and target.storage_id == latest.storage_id, (check, day)
    assert _marts(home, days[-1]) == cycle_by_cycle

    # A wrong manual match in the middle cycle (what `recon match` now refuses) fails its dbt test.
    with open_warehouse(home.settings()) as wh:
        payment_id, account = wh.fetchone("select payment_id, account_iban from marts.fct_payment_reconciliation "
                                          "where pay_cycle = ? order by payment_id limit 1", (days[1],))
        (bank_line_id,) = wh.fetchone("select bank_line_id from marts.fct_bank_line_reconciliation "
                                      "where pay_cycle = ? and account_iban <> ? order by bank_line_id limit 1",
                                      (days[1], account))
        wh.execute("insert into ops.manual_matches (manual_match_id, payment_id, bank_line_id, reason, "
                   "matched_by, matched_at, effective_cycle) values ('mm_wrong', ?, ?, 'wrong', 'eve', ?, ?)",
                   (payment_id, bank_line_id, dt.datetime(2026, 11, 12, 9), days[1]))

    result, materialized, built, instance = _range_run(home, monkeypatch, days[0], days[-1])

    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE)
    reason = failure.step_failure_data.user_failure_data.description
    assert reason.startswith(f"pay cycle {days[1].isoformat()}: dbt test assert_links_stay_within_one_account "
                             "failed on 1 row(s)"), reason
    # The first cycle was built before the failure and says so; the third was never started.
    assert materialized == {days[0].isoformat()}
    assert built == [f"dbt build of pay cycle {d.isoformat()}" for d in days[:2]]
