"""The dbt project as Dagster assets, one run per pay-cycle partition.

The partition key becomes dbt vars through ``dbt_vars_for_cycle`` (pure, tested), so a
backfill in the UI, the end-of-cycle schedule and ``recon run`` build a cycle identically.
"""

import os
from typing import Any, Mapping

from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from assets.ingestion import WAREHOUSE_POOL
from recon_pipeline.cycles import dbt_vars_for_cycle
from recon_pipeline.dbt_setup import apply_dbt_env, dbt_cycle_invocation, keep_partial_parse, recon_dbt_project
from recon_pipeline.partitions import ONE_CYCLE_PER_RUN, pay_cycle_partitions
from recon_pipeline.settings import load_settings


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

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props.get("resource_type") == "seed":
            return "config"
        fqn = dbt_resource_props.get("fqn") or []
        return fqn[1] if len(fqn) > 2 else "dbt"


def build_dbt_cycle_assets(settings=None):
    settings = settings or load_settings()
    partitions = pay_cycle_partitions(settings)

    @dbt_assets(
        manifest=recon_dbt_project.manifest_path,
        project=recon_dbt_project,
        partitions_def=partitions,
        backfill_policy=ONE_CYCLE_PER_RUN,
        dagster_dbt_translator=ReconDbtTranslator(
            partitions_def=partitions,
            settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)),
        pool=WAREHOUSE_POOL,
        name="reconcile_pay_cycle",
    )
    def reconcile_pay_cycle(context: AssetExecutionContext, dbt: DbtCliResource):
        """Normalise, match and report one pay cycle (staging → intermediate → marts)."""
        run_settings = load_settings()
        apply_dbt_env(run_settings)
        dbt_vars = dbt_vars_for_cycle(context.partition_key, run_settings)
        # The cycle goes in the environment, so dbt's partial parsing holds from cycle to cycle.
        vars_args, cycle_env = dbt_cycle_invocation(dbt_vars)
        os.environ.update(cycle_env)
        # Unit tests of the matching rules run in the test suite, not in every cycle's build.
        args = ["build", "--exclude-resource-type", "unit_test", *vars_args]
        invocation = dbt.cli(args, context=context)
        yield from invocation.stream()
        keep_partial_parse(invocation.target_path)

    return reconcile_pay_cycle
