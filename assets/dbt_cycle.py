"""The dbt project as Dagster assets, one run per pay-cycle partition.

The partition key becomes dbt vars through ``dbt_vars_for_cycle`` (pure, tested), so a
backfill in the UI, the end-of-cycle schedule and ``recon run`` build a cycle identically.

Cycles depend on each other: int_prior_exceptions and int_prior_links read the marts that
earlier cycles wrote. Dagster cannot take that edge as drawn (mart → a model upstream of the
same mart is a cycle in the graph), so a cycle's dbt build is declared as one unit that depends
on the previous cycle's build: every dbt asset depends on its own previous partition
(``PREVIOUS_CYCLE``) and the multi-asset cannot be subset. The UI shows the lineage between
cycles and marks later cycles stale when an earlier one is rebuilt.

A run builds one cycle (schedule, `recon run`, a resolution) or, in a backfill, a range of
cycles oldest first (``CYCLES_IN_ORDER_IN_ONE_RUN``): each cycle is the same dbt build a run of
its own would do, so a backfill of every cycle at once gives `recon run`'s marts whatever the
run queue allows in parallel. A range that fails at cycle N keeps the cycles before it, recorded
as materialized, and names N.
"""

import os
import warnings
from collections.abc import Mapping
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetCheckResult,
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetsDefinition,
    BetaWarning,
    Failure,
    Output,
    ResourceParam,
)
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets

from orchestration.cycle_range import cycles_of_run, for_cycle
from orchestration.dbt import recon_dbt_project
from orchestration.dbt_in_process import InProcessBuild, dbt_build
from orchestration.instance import CYCLES_POOL
from orchestration.partitions import CYCLES_IN_ORDER_IN_ONE_RUN, PREVIOUS_CYCLE
from orchestration.resources import Recon
from recon_pipeline.cycles import dbt_vars_for_cycle
from recon_pipeline.dbt_setup import apply_dbt_env, dbt_cycle_invocation
from recon_pipeline.warehouse.dbt_failures import dbt_error_line, errored_node_lines, failed_test_lines


class ReconDbtTranslator(DagsterDbtTranslator):
    """Groups models by layer in the asset graph and makes dbt tests per-cycle asset checks.

    dbt tests run in every cycle's build and check that cycle's slice (they filter on the
    pay_cycle var), so their results belong to the partition, like the data they check.
    """

    def __init__(self, partitions_def=None, **kwargs):
        super().__init__(**kwargs)
        self._check_partitions = partitions_def

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or self._check_partitions is None:
            return spec
        return spec._replace(partitions_def=self._check_partitions)

    def get_asset_spec(self, manifest, unique_id, project):
        spec = super().get_asset_spec(manifest, unique_id, project)
        if self._check_partitions is None or unique_id.startswith("source."):
            return spec
        # This cycle's build starts from the previous cycle's (see the module docstring).
        return spec.replace_attributes(deps=[*spec.deps, AssetDep(spec.key, partition_mapping=PREVIOUS_CYCLE)])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props.get("resource_type") == "seed":
            return "config"
        fqn = dbt_resource_props.get("fqn") or []
        return fqn[1] if len(fqn) > 2 else "dbt"


def build_dbt_cycle_assets(partitions):
    @dbt_assets(
        manifest=recon_dbt_project.manifest_path,
        project=recon_dbt_project,
        partitions_def=partitions,
        backfill_policy=CYCLES_IN_ORDER_IN_ONE_RUN,
        dagster_dbt_translator=ReconDbtTranslator(
            partitions_def=partitions,
            settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)),
        pool=CYCLES_POOL,
        name="reconcile_pay_cycle",
    )
    def reconcile_pay_cycle(context: AssetExecutionContext, recon: ResourceParam[Recon]):
        """Normalise, match and report the run's pay cycles (staging → intermediate → marts), oldest first."""
        run_settings = recon.settings
        apply_dbt_env(run_settings)
        cycles = cycles_of_run(context)
        ranged = len(cycles) > 1
        # In a range, each cycle's test results wait until its models are recorded as
        # materialized (at the last cycle's Outputs), so they can point at that materialization.
        checked: list[tuple[str, AssetCheckResult | AssetCheckEvaluation]] = []
        output_keys: set[AssetKey] = set()
        for position, cycle in enumerate(cycles):
            last = position == len(cycles) - 1
            invocation = _build_cycle(context, cycle, run_settings)
            for event in invocation.stream():
                if isinstance(event, (AssetCheckResult, AssetCheckEvaluation)):
                    if ranged:
                        checked.append((cycle, event))
                    else:
                        yield event
                elif last:
                    # One Output per model for the whole run: Dagster records it for every
                    # cycle of the range, so only the last cycle's build reports them.
                    if isinstance(event, Output):
                        output_keys.add(context.asset_key_for_output(event.output_name))
                    yield event
            if not invocation.is_successful():
                # The cycles before this one are built and stay so: say it (for the models no
                # Output recorded), then fail naming this one.
                for built in cycles[:position]:
                    for key in context.selected_asset_keys - output_keys:
                        yield AssetMaterialization(asset_key=key, partition=built,
                                                   metadata={"built_before_failure_of": cycle})
                yield from _checks_for_cycles(context, checked, cycles[:position + 1])
                raise Failure(description=(f"pay cycle {cycle}: " if ranged else "")
                              + _failure_line(invocation, recon))
        yield from _checks_for_cycles(context, checked, cycles)

    return _as_one_unit(reconcile_pay_cycle)


def _build_cycle(context: AssetExecutionContext, cycle: str, run_settings) -> InProcessBuild:
    dbt_vars = dbt_vars_for_cycle(cycle, run_settings)
    # The cycle goes in the environment, so dbt's partial parsing holds from cycle to cycle.
    vars_args, cycle_env = dbt_cycle_invocation(dbt_vars)
    os.environ.update(cycle_env)
    context.log.info(f"dbt build of pay cycle {cycle}")
    return dbt_build(context, vars_args)


def _failure_line(invocation: InProcessBuild, recon: Recon) -> str:
    """What dbt could not build and why, and the failing tests with their keys (dagster-dbt's
    error names none of them)."""
    try:
        run_results = invocation.get_artifact("run_results.json")
    except Exception:  # noqa: BLE001 - dbt died before writing it: its own error is all there is
        run_results = {}
    failed = errored_node_lines(run_results)
    try:
        with recon.warehouse() as wh:
            failed += failed_test_lines(run_results, wh)
    except Exception:  # noqa: BLE001 - the warehouse is gone (the reason is above); name the tests anyway
        failed += failed_test_lines(run_results, None)
    if not failed:
        failed = [dbt_error_line(str(invocation.get_error() or ""), invocation.returncode,
                                 str(invocation.target_path / "dbt.log"))]
    return " | ".join(failed)


def _checks_for_cycles(context: AssetExecutionContext, checked, cycles: list[str]):
    for cycle, event in checked:
        if cycle in cycles:
            yield for_cycle(event, cycle, True, blocking=_blocking(context, event), instance=context.instance)


def _blocking(context: AssetExecutionContext, event) -> bool | None:
    key = AssetCheckKey(AssetKey.from_coercible(event.asset_key), event.check_name)
    try:
        return context.assets_def.get_spec_for_check_key(key).blocking
    except Exception:  # noqa: BLE001 - a test dagster-dbt reports outside the unit's specs
        return None


def _as_one_unit(assets_def: AssetsDefinition) -> AssetsDefinition:
    """The same dbt assets, materialized all together or not at all (``can_subset=False``).

    dagster-dbt makes its assets subsettable; a backfill could then build cycle N's staging and
    int_prior_* models as soon as cycle N's inputs are in, before cycle N-1's marts exist.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)   # execution_type, passed through unchanged
        return AssetsDefinition(**{**assets_def.get_attributes_dict(), "can_subset": False})
