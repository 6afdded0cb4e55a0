"""Our own services' agreement (CONTRACT §6) in the Dagster UI, per pay cycle.

A non-blocking check on ``marts/rpt_internal_consistency``: its metadata is the per-participant
table (reported, late, missing, disagreeing) an operator would otherwise open the close pack
for. It fails with severity WARN while any participant has an open internal exception: our
services disagreeing is the platform team's to chase, never a reason to hold the bank
reconciliation or the close pack. Without internal consistency configured it passes and says so.
"""

import datetime as dt
import warnings

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    PartitionsDefinition,
    PreviewWarning,
    ResourceParam,
    multi_asset_check,
)

from orchestration.cycle_range import cycles_of_run, for_cycle
from orchestration.instance import CYCLES_POOL
from orchestration.resources import Recon
from recon_pipeline.consistency.counts import ParticipantCounts, read_participant_counts
from recon_pipeline.one_line import exception_line

INTERNAL_CONSISTENCY_KEY = AssetKey(["marts", "rpt_internal_consistency"])
CHECK_NAME = "internal_consistency"


def _table(rows: list[ParticipantCounts]) -> str:
    lines = ["| service | processings sent | reported | late | missing | disagreeing |", "|---|---|---|---|---|---|"]
    lines += [f"| {r.service} | {r.processings} | {r.reported} | {r.late} | {r.missing} | {r.disagreeing} |"
              for r in rows]
    return "\n".join(lines)


def internal_consistency_result(rows: list[ParticipantCounts], tracked: bool) -> AssetCheckResult:
    """The check's verdict and evidence for one cycle's participant counts."""
    if not tracked:
        return AssetCheckResult(check_name=CHECK_NAME, asset_key=INTERNAL_CONSISTENCY_KEY, passed=True,
                                severity=AssetCheckSeverity.WARN,
                                description="not tracked: recon.yaml has no internal_consistency section",
                                metadata={"internal_status": "not_tracked"})
    breaking = [r.service for r in rows if r.breaks]
    return AssetCheckResult(
        check_name=CHECK_NAME, asset_key=INTERNAL_CONSISTENCY_KEY, passed=not breaking,
        severity=AssetCheckSeverity.WARN,
        description=(f"open internal breaks at {', '.join(breaking)}" if breaking
                     else "every participant reported in time and agrees"),
        metadata={
            "participants": MetadataValue.md(_table(rows)) if rows else MetadataValue.text("(none this cycle)"),
            "per_participant": MetadataValue.json({r.service: {
                "processings": r.processings, "reported": r.reported, "late": r.late,
                "missing": r.missing, "disagreeing": r.disagreeing} for r in rows}),
            "reported": sum(r.reported for r in rows),
            "late": sum(r.late for r in rows),
            "missing": sum(r.missing for r in rows),
            "disagreeing": sum(r.disagreeing for r in rows),
        })


def _cycle_result(context: AssetCheckExecutionContext, recon: Recon, cycle: dt.date) -> AssetCheckResult:
    try:
        with recon.warehouse() as wh:
            rows = read_participant_counts(wh, cycle)
    except Exception as exc:  # noqa: BLE001 - evidence for the UI, never a failed step
        reason = exception_line(exc)
        context.log.warning(f"internal consistency check for {cycle} could not run: {reason}")
        return AssetCheckResult(check_name=CHECK_NAME, asset_key=INTERNAL_CONSISTENCY_KEY, passed=False,
                                severity=AssetCheckSeverity.WARN, description=reason[:1000],
                                metadata={"error": MetadataValue.text(reason)})
    return internal_consistency_result(rows, tracked=recon.settings.internal_consistency is not None)


def build_internal_consistency_check(partitions_def: PartitionsDefinition) -> AssetChecksDefinition:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        spec = AssetCheckSpec(
            name=CHECK_NAME, asset=INTERNAL_CONSISTENCY_KEY, blocking=False, partitions_def=partitions_def,
            description="Per participant service: reported, late, missing, disagreeing (CONTRACT §6). "
                        "WARN while any internal exception is open; never blocks the close pack.")

    # can_subset: outputs optional, as a range run reports per-cycle evaluations (cycle_range.py)
    @multi_asset_check(specs=[spec], name="cycle_internal_consistency", pool=CYCLES_POOL, can_subset=True,
                       description="Our own services' agreement for the pay cycle (CONTRACT §6).")
    def cycle_internal_consistency(context: AssetCheckExecutionContext, recon: ResourceParam[Recon]):
        cycles = cycles_of_run(context)
        for cycle in cycles:
            yield for_cycle(_cycle_result(context, recon, dt.date.fromisoformat(cycle)), cycle, len(cycles) > 1,
                            blocking=False, instance=context.instance)

    return cycle_internal_consistency
