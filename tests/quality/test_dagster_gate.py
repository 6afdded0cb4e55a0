"""The gate in Dagster: a failed blocking check stops that cycle's downstream steps, only that cycle's.

The runs use the real ingestion assets (they load the test's inbox from ``RECON_HOME``),
the real ``cycle_inputs`` asset and checks, and small real downstream assets standing where
the cycle's dbt models and the close pack sit in the real graph.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from dagster import (
    AssetCheckSeverity,
    AssetKey,
    AssetSelection,
    AssetSpec,
    DagsterInstance,
    Definitions,
    asset,
    define_asset_job,
    materialize,
    multi_asset,
)

from assets.ingestion import raw_bank_statements, raw_payment_events
from assets.quality import CYCLE_INPUTS_KEY, MART_KEY_FOR_DATASET, build_quality_assets
from orchestration.partitions import pay_cycle_partitions
from orchestration.resources import recon_resource
from recon_pipeline.quality import input_check_definitions, mart_check_definitions
from tests.quality.conftest import DE, LAST, START, event_like

MON, TUE = (LAST - dt.timedelta(days=1)).isoformat(), LAST.isoformat()
RECONCILE_PROBE = AssetKey(["probe_reconcile_cycle"])


@pytest.fixture
def recon_env(dq_home, monkeypatch, tmp_path):
    """RECON_HOME for the ingestion assets, which read their settings from the environment
    (the others receive them as the ``recon`` resource)."""
    for name in ("RECON_CONFIG", "RECON_STATEMENTS_DIR", "RECON_EVENTS_DIR", "RECON_WAREHOUSE_URL",
                 "RECON_SFTP_URL", "RECON_KAFKA_BOOTSTRAP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECON_HOME", str(dq_home.root))
    monkeypatch.chdir(tmp_path)                       # no stray ./recon.yaml
    # The data is loaded directly, not by `recon run`, so record where its cycles start.
    (dq_home.root / "first_cycle").write_text(START.isoformat(), encoding="utf-8")
    return dq_home


def _graph(settings):
    partitions = pay_cycle_partitions(settings)
    quality_assets, quality_checks = build_quality_assets(partitions)
    ran: list[str] = []

    @asset(key=RECONCILE_PROBE, partitions_def=partitions, deps=[CYCLE_INPUTS_KEY])
    def probe_reconcile_cycle(context) -> None:
        """Stands where the cycle's dbt models sit: directly downstream of cycle_inputs."""
        ran.append(context.partition_key)

    return partitions, quality_assets, quality_checks, probe_reconcile_cycle, ran


def _evaluations(result):
    return {e.event_specific_data.check_name: e.event_specific_data
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def _started_steps(result) -> list[str]:
    return [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]


def test_failed_blocking_check_stops_only_that_cycles_downstream_step(recon_env):
    home = recon_env
    template = next(e for e in home.events_on(LAST) if e["event_type"] == "payment.sent")
    home.add_events("inject_eux", [event_like(template, event_id="evt-eux-dagster", currency="EUX")])
    settings = home.settings()
    _, quality_assets, quality_checks, probe, ran = _graph(settings)
    instance = DagsterInstance.ephemeral()
    everything = [raw_bank_statements, raw_payment_events, *quality_assets, probe]

    monday = materialize(everything, partition_key=MON, instance=instance, raise_on_error=False,
                         resources={"recon": recon_resource(settings)})
    assert monday.success, "a clean cycle must run through"
    assert ran == [MON]
    evaluations = _evaluations(monday)
    assert set(evaluations) == {d.check_name for d in input_check_definitions()}
    assert all(e.passed and e.partition == MON for e in evaluations.values())
    monday_rows = home.stored(MON)

    tuesday = materialize(everything, partition_key=TUE, instance=instance, raise_on_error=False,
                          resources={"recon": recon_resource(settings)})
    assert not tuesday.success
    assert ran == [MON], "the downstream step of the blocked cycle must not run"
    assert "probe_reconcile_cycle" not in _started_steps(tuesday)
    failure = next(e for e in tuesday.all_events if e.event_type_value == "STEP_FAILURE")
    assert failure.step_key == "cycle_inputs"
    assert "blocking asset check" in failure.event_specific_data.error.message
    assert "events_currency_iso4217" in failure.event_specific_data.error.message

    currency = _evaluations(tuesday)["events_currency_iso4217"]
    assert not currency.passed and currency.severity == AssetCheckSeverity.ERROR and currency.blocking
    assert currency.partition == TUE
    assert currency.metadata["failing_keys"].value == ["evt-eux-dagster"]
    assert currency.metadata["failing_count"].value == 1
    assert "iso4217_codes" in currency.metadata["expectation"].value
    assert "evt-eux-dagster" in (currency.description or "")

    # Per cycle: Monday's stored results and its downstream materialization are untouched.
    assert home.stored(MON) == monday_rows
    probe_mats = instance.fetch_materializations(RECONCILE_PROBE, limit=10).records
    assert [m.partition_key for m in probe_mats] == [MON]
    tuesday_rows = {r["check_name"]: r for r in home.stored(TUE)}
    assert tuesday_rows["events_currency_iso4217"]["passed"] is False
    assert json.loads(tuesday_rows["events_currency_iso4217"]["evidence"])["failing_keys"] == ["evt-eux-dagster"]


def test_warnings_do_not_block(recon_env):
    home = recon_env
    home.statement_path(DE, LAST).unlink()                 # missing statement on a Tuesday: a warning
    settings = home.settings()
    _, quality_assets, quality_checks, probe, ran = _graph(settings)
    result = materialize([raw_bank_statements, raw_payment_events, *quality_assets, probe],
                         partition_key=TUE, instance=DagsterInstance.ephemeral(), raise_on_error=False,
                         resources={"recon": recon_resource(settings)})
    assert result.success and ran == [TUE]
    missing = _evaluations(result)["statement_missing_on_business_day"]
    assert not missing.passed and missing.severity == AssetCheckSeverity.WARN
    assert missing.metadata["failing_keys"].value == [DE]


def test_mart_checks_warn_and_run_before_the_close_pack(recon_env):
    """The mart checks (GX links suite + match-rate drop) sit between the marts and the close
    pack: they report WARN, never stop it, and the close pack sees their stored results."""
    home = recon_env
    home.load()
    settings = home.settings()
    partitions = pay_cycle_partitions(settings)
    _, mart_checks = build_quality_assets(partitions)
    links_key, summary_key = MART_KEY_FOR_DATASET["reconciliation_links"], MART_KEY_FOR_DATASET["rpt_close_summary"]
    seen_by_close_pack: list[set[str]] = []

    @multi_asset(specs=[AssetSpec(links_key), AssetSpec(summary_key)], partitions_def=partitions)
    def marts_stand_in(context):
        """Writes the two mart tables as dbt would for the cycle: a sharp match-rate drop on
        DE, and one bank line used by two matches."""
        cycle = dt.date.fromisoformat(context.partition_key)
        with home.warehouse() as wh:
            wh.execute("create schema if not exists marts")
            wh.execute("create or replace table marts.rpt_close_summary (pay_cycle date, account_iban varchar, "
                       "match_rate decimal(9,4), payments_count bigint)")
            wh.executemany("insert into marts.rpt_close_summary values (?, ?, ?, ?)",
                           [(cycle - dt.timedelta(days=i), DE, "0.9000", 20) for i in range(1, 6)]
                           + [(cycle, DE, "0.4000", 20)])
            wh.execute("create or replace table marts.fct_reconciliation_links (match_id varchar, payment_id "
                       "varchar, bank_line_id varchar, rule_id varchar, confidence decimal(5,4), pay_cycle date)")
            wh.executemany("insert into marts.fct_reconciliation_links values (?, ?, ?, ?, ?, ?)",
                           [("m1", "p1", "bl_1", "exact_reference", "1.0000", cycle),
                            ("m2", "p2", "bl_1", "amount_date_name", "0.6000", cycle)])
        return None

    @asset(partitions_def=partitions, deps=[links_key, summary_key])
    def close_pack_probe(context) -> None:
        with home.warehouse(read_only=True) as wh:
            rows = wh.fetch_dicts("select check_name from dq.check_results where pay_cycle = ?",
                                  (dt.date.fromisoformat(context.partition_key),))
        seen_by_close_pack.append({r["check_name"] for r in rows})

    defs = Definitions(assets=[marts_stand_in, close_pack_probe], asset_checks=mart_checks,
                       jobs=[define_asset_job("close", selection=AssetSelection.assets(marts_stand_in,
                                                                                        close_pack_probe))],
                       resources={"recon": recon_resource(settings)})
    result = defs.resolve_job_def("close").execute_in_process(
        partition_key=TUE, instance=DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    started = _started_steps(result)
    assert started.index("cycle_marts_quality") < started.index("close_pack_probe")
    evaluations = _evaluations(result)
    assert set(evaluations) == {d.check_name for d in mart_check_definitions()}
    assert all(e.severity == AssetCheckSeverity.WARN for e in evaluations.values())
    drop = evaluations["match_rate_vs_trailing_median"]
    assert not drop.passed and drop.metadata["failing_keys"].value == [DE] and drop.partition == TUE
    double = evaluations["links_bank_line_in_one_match"]
    assert not double.passed and double.metadata["failing_count"].value == 2
    assert seen_by_close_pack == [{d.check_name for d in mart_check_definitions()}]


def test_the_quality_definitions_load_next_to_the_ingestion_assets(recon_env):
    settings = recon_env.settings()
    partitions = pay_cycle_partitions(settings)
    quality_assets, quality_checks = build_quality_assets(partitions)
    defs = Definitions(assets=[raw_bank_statements, raw_payment_events, *quality_assets],
                       asset_checks=quality_checks, resources={"recon": recon_resource(settings)})
    graph = defs.resolve_asset_graph()
    assert graph.get(CYCLE_INPUTS_KEY).partitions_def == partitions
    # what a cycle reads from outside it: the raw tables and the operators' decisions
    assert set(graph.get(CYCLE_INPUTS_KEY).parent_keys) == {AssetKey(["raw_bank_statements"]),
                                                              AssetKey(["raw_payment_events"]),
                                                              AssetKey(["operator_decisions"])}
    specs = {s.name: s for s in quality_assets[0].check_specs}
    for definition in input_check_definitions():
        assert specs[definition.check_name].blocking == (definition.severity == "blocking")
        assert specs[definition.check_name].partitions_def == partitions
