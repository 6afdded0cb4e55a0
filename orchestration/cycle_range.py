"""A run that builds several pay cycles: which cycles, in which order, and whose check result is whose.

A backfill of every cycle at once cannot give each cycle's dbt build a run of its own: cycle N
depends on cycle N-1 (assets/dbt_cycle.py), and Dagster 1.13's backfill daemon only requests such
a self-dependent unit in one run covering the whole range (a per-run limit of one partition makes
it give up on the unit, see the partitions module). So the dbt build and the checks that run
with it take a partition range and walk it oldest first, each cycle exactly as a run of its own
would build it.

Dagster records a check result against the run's single partition, or against none in a range
run; a result of a range run is therefore reported as an ``AssetCheckEvaluation`` that names
its cycle and the cycle's materialization it checked, so the UI keeps one current result per
cycle whichever way the cycle was built.
"""
from __future__ import annotations

from dagster import AssetCheckEvaluation, AssetCheckResult, AssetKey, AssetRecordsFilter
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)


def cycles_of_run(context) -> list[str]:
    """The pay cycles this run builds, oldest first (one for a schedule, a sensor or `recon run`).

    A range is more than one of them: a one-cycle backfill carries range tags too."""
    op_context = getattr(context, "op_execution_context", context)
    if op_context.has_partition_key:
        return [op_context.partition_key]
    return sorted(op_context.partition_keys)   # ISO dates: text order is date order


def for_cycle(result: AssetCheckResult | AssetCheckEvaluation, cycle: str, ranged: bool,
              blocking: bool | None = None, instance=None) -> AssetCheckResult | AssetCheckEvaluation:
    """``result`` as reported for ``cycle``: unchanged in a one-cycle run, named by cycle in a range.

    In a range it points at the cycle's latest materialization of the checked asset, as Dagster
    does for a one-partition run; without that pointer the UI shows the result as not current.
    """
    if not ranged:
        return result
    if isinstance(result, AssetCheckEvaluation) and blocking is None:
        blocking = result.blocking
    key = AssetKey.from_coercible(result.asset_key)
    return AssetCheckEvaluation(
        asset_key=key, check_name=result.check_name or "",
        passed=result.passed, metadata=result.metadata, severity=result.severity,
        description=result.description, blocking=blocking, partition=cycle,
        target_materialization_data=_latest_materialization(instance, key, cycle) if instance else None)


def _latest_materialization(instance, key: AssetKey, cycle: str) -> AssetCheckEvaluationTargetMaterializationData | None:
    records = instance.fetch_materializations(AssetRecordsFilter(asset_key=key, asset_partitions=[cycle]),
                                              limit=1).records
    if not records:
        return None
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=records[0].storage_id, run_id=records[0].event_log_entry.run_id,
        timestamp=records[0].timestamp)
