"""Data-quality gates as Dagster asset checks, one set per pay-cycle partition.

``cycle_inputs`` stands for "this cycle's raw inputs, validated". It sits between the
unpartitioned raw tables and the cycle's dbt models (whose raw sources point at it), and
carries the input checks as its own check specs: the asset step reads the cycle's data once,
runs every Great Expectations suite and Python check, stores the results in
``dq.check_results`` and reports one ``AssetCheckResult`` per check.

How blocking works (Dagster 1.13, verified in tests/quality/test_dagster_gate.py): a failed
result of a spec with ``blocking=True`` and severity ERROR makes the step raise
``DagsterAssetCheckFailedError`` after all results are recorded, so the step fails and every
step downstream of ``cycle_inputs`` in that run (the cycle's dbt models, the mart checks, the
close pack) is not executed. Warnings are reported with severity WARN and never block. The
failure is per partition: other cycles' runs and stored results are untouched.

The mart checks run after dbt, in one ``multi_asset_check`` on
``marts/fct_reconciliation_links`` and ``marts/rpt_close_summary``. They only ever report
WARN; their specs are ``blocking=True`` solely so Dagster orders them before the close pack
(a blocking check makes downstream steps wait for it), which is how the close pack's Data
quality sheet gets this run's mart results. A WARN result never stops the close pack, and a
crash of these checks is reported as a WARN result, not a step failure.
"""

import warnings
from collections.abc import Iterable, Sequence

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    PreviewWarning,
    ResourceParam,
    asset,
    multi_asset_check,
)

from orchestration.cycle_range import cycles_of_run, for_cycle
from orchestration.instance import CYCLES_POOL
from orchestration.partitions import ONE_CYCLE_PER_RUN
from orchestration.resources import Recon
from recon_pipeline.one_line import exception_line
from recon_pipeline.quality import (
    CheckDefinition,
    CheckResult,
    CycleReport,
    check_cycle_inputs,
    check_cycle_marts,
    input_check_definitions,
    mart_check_definitions,
)
from recon_pipeline.quality.results import MAX_EVIDENCE_KEYS

CYCLE_INPUTS_KEY = AssetKey(["cycle_inputs"])
# What a cycle reads from outside the cycle: the raw tables and the operators' decisions. dbt's
# sources map to cycle_inputs, so the cycle's models have partitioned parents only (see _sources.yml).
RAW_INPUT_KEYS = (AssetKey(["raw_bank_statements"]), AssetKey(["raw_payment_events"]),
                  AssetKey(["operator_decisions"]))
MART_KEY_FOR_DATASET = {
    "reconciliation_links": AssetKey(["marts", "fct_reconciliation_links"]),
    "rpt_close_summary": AssetKey(["marts", "rpt_close_summary"]),
}


def _spec(definition: CheckDefinition, asset_key: AssetKey, partitions_def: PartitionsDefinition | None,
          blocking: bool) -> AssetCheckSpec:
    # Per-partition check specs are a Dagster "preview" feature; without them a cycle's result
    # would overwrite the previous cycle's in the UI instead of being kept per cycle.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return AssetCheckSpec(
            name=definition.check_name, asset=asset_key, description=definition.description,
            blocking=blocking, partitions_def=partitions_def,
            metadata={"dataset": definition.dataset, "severity": definition.severity,
                      "defined_in": definition.source})


def to_asset_check_result(result: CheckResult, asset_key: AssetKey, warn_only: bool = False) -> AssetCheckResult:
    """A stored check result as Dagster shows it: pass/fail, severity, evidence as metadata.

    ERROR severity (which blocks) for failed blocking checks, WARN otherwise; ``warn_only``
    forces WARN whatever the suite says.
    """
    metadata = {
        "dataset": result.dataset,
        "severity": result.severity,
        "failing_count": int(result.failing_count),
        "failing_keys": MetadataValue.json(result.failing_keys[:MAX_EVIDENCE_KEYS]),
        "key": result.key_name,
        "expectation": MetadataValue.text(result.expectation or "(none)"),
        "rows_checked": int(result.rows_checked),
    }
    if result.details:
        metadata["evidence"] = MetadataValue.json([d[:300] for d in result.details[:MAX_EVIDENCE_KEYS]])
    if result.error:
        metadata["error"] = MetadataValue.text(result.error)
    return AssetCheckResult(
        asset_key=asset_key, check_name=result.check_name, passed=bool(result.passed),
        severity=AssetCheckSeverity.ERROR if result.blocking and not warn_only else AssetCheckSeverity.WARN,
        description=result.summary()[:1000], metadata=metadata)


def _results_table(results: Sequence[CheckResult]) -> str:
    lines = ["| check | dataset | severity | result | failing |", "|---|---|---|---|---|"]
    for r in results:
        outcome = "PASS" if r.passed else ("BLOCKED" if r.blocking else "WARN")
        lines.append(f"| {r.check_name} | {r.dataset} | {r.severity} | {outcome} | {r.failing_count} |")
    return "\n".join(lines)


def _complete(results: Iterable[CheckResult], definitions: Sequence[CheckDefinition]) -> list[CheckResult]:
    """One result per declared check, in declaration order; a check that produced none fails.

    Dagster lets downstream steps run when a blocking check emits no result at all, so a
    check silently missing from a run must count as failed, not as passed.
    """
    by_name = {r.check_name: r for r in results}
    out = []
    for d in definitions:
        out.append(by_name.get(d.check_name) or CheckResult(
            check_name=d.check_name, dataset=d.dataset, severity=d.severity, passed=False,
            description=d.description, error="the check produced no result in this run"))
    return out


def build_quality_assets(partitions_def: PartitionsDefinition
                         ) -> tuple[list[AssetsDefinition], list[AssetChecksDefinition]]:
    """The ``cycle_inputs`` asset (with its blocking input checks) and the mart checks."""
    input_definitions = input_check_definitions()
    mart_definitions = mart_check_definitions()

    @asset(
        name="cycle_inputs",
        group_name="quality",
        partitions_def=partitions_def,
        backfill_policy=ONE_CYCLE_PER_RUN,
        deps=list(RAW_INPUT_KEYS),
        check_specs=[_spec(d, CYCLE_INPUTS_KEY, partitions_def, blocking=d.blocking) for d in input_definitions],
        pool=CYCLES_POOL,
        kinds={"python", "great_expectations"},
        description="This pay cycle's raw inputs (events in its UTC window, bank lines booked on it, its "
                    "statements), validated by the Great Expectations suites in expectations/ and the Python "
                    "checks in recon_pipeline/quality. A failed blocking check stops the cycle's dbt models; "
                    "results per check are in dq.check_results and the close pack.",
    )
    def cycle_inputs(context: AssetExecutionContext, recon: ResourceParam[Recon]) -> MaterializeResult:
        cycle = context.partition_key
        with recon.warehouse() as wh:
            report = check_cycle_inputs(wh, cycle, recon.settings)
        results = _complete(report.results, input_definitions)
        _log(context, report, results)
        return MaterializeResult(
            metadata={
                **{k: int(v) for k, v in report.counts.items()},
                "checks": len(results),
                "blocking_failures": MetadataValue.json([r.check_name for r in results if r.blocks]),
                "warnings": MetadataValue.json([r.check_name for r in results
                                                if not r.passed and not r.blocking]),
                "results": MetadataValue.md(_results_table(results)),
                "stored_in": "dq.check_results",
            },
            check_results=[to_asset_check_result(r, CYCLE_INPUTS_KEY) for r in results],
        )

    mart_specs = [_spec(d, MART_KEY_FOR_DATASET[d.dataset], partitions_def, blocking=True)
                  for d in mart_definitions]

    @multi_asset_check(
        name="cycle_marts_quality",
        specs=mart_specs,
        pool=CYCLES_POOL,
        can_subset=True,   # outputs optional: a range run reports per-cycle evaluations instead (cycle_range.py)
        description="After dbt: sanity of the cycle's reconciliation links (GX suite "
                    "reconciliation_links.json) and its match rate against the trailing 7 cycles. Warnings "
                    "only; they run before the close pack so its Data quality sheet includes them.",
    )
    def cycle_marts_quality(context: AssetCheckExecutionContext, recon: ResourceParam[Recon]):
        cycles = cycles_of_run(context)
        for cycle in cycles:
            for r in _mart_results(context, recon, cycle, mart_definitions):
                if not r.passed:
                    context.log.warning(f"data-quality warning for pay cycle {cycle}: {r.summary()}")
                # Never ERROR: these specs are blocking only to run before the close pack.
                yield for_cycle(to_asset_check_result(r, MART_KEY_FOR_DATASET[r.dataset], warn_only=True),
                                cycle, len(cycles) > 1, blocking=True, instance=context.instance)

    return [cycle_inputs], [cycle_marts_quality]


def _mart_results(context: AssetCheckExecutionContext, recon: Recon, cycle: str,
                  definitions: Sequence[CheckDefinition]) -> list[CheckResult]:
    try:
        with recon.warehouse() as wh:
            report = check_cycle_marts(wh, cycle)
        return _complete(report.results, definitions)
    except Exception as exc:  # noqa: BLE001 - a crash here must not stop the close pack
        reason = exception_line(exc)
        context.log.warning(f"mart checks for {cycle} could not run: {reason}")
        return [CheckResult(d.check_name, d.dataset, d.severity, passed=False, description=d.description,
                            error=reason) for d in definitions]


def _log(context: AssetExecutionContext, report: CycleReport, results: Sequence[CheckResult]) -> None:
    for r in results:
        if r.blocks:
            context.log.error(f"pay cycle {report.pay_cycle} blocked by data-quality check {r.summary()}")
            for detail in r.details[:10]:
                context.log.error(f"  {r.check_name}: {detail}")
        elif not r.passed:
            context.log.warning(f"data-quality warning for pay cycle {report.pay_cycle}: {r.summary()}")
