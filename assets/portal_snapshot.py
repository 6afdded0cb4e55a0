"""The portal's read model, published at the end of every close job (after the close pack).

DuckDB lets one process write the warehouse, and while a build holds it no other process may
open it at all; the portal must keep answering during builds and never block one. So the
writer publishes what the portal reads (a read-only snapshot file on DuckDB, a swapped
``portal`` schema on Postgres: recon_pipeline/portal/snapshot.py). The same writer first
appends the access records the portal spooled meanwhile (downloads, searches) to
``ops.audit_log``: it is the one process allowed to.
"""
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from recon_pipeline.dagster_instance import CYCLES_POOL
from recon_pipeline.audit import drain_spool
from recon_pipeline.partitions import ONE_CYCLE_PER_RUN
from recon_pipeline.portal.snapshot import publish_snapshot
from recon_pipeline.settings import load_settings
from recon_pipeline.warehouse.connection import open_warehouse


def build_portal_snapshot_asset(partitions_def):
    @asset(name="portal_snapshot", group_name="reports", partitions_def=partitions_def,
           deps=[AssetKey("close_pack")], backfill_policy=ONE_CYCLE_PER_RUN, pool=CYCLES_POOL,
           kinds={"duckdb"},
           description="What the finance portal (`recon serve`) reads: marts and sorted search tables, "
                       "published atomically; drains the portal's spooled audit records first.")
    def portal_snapshot(context: AssetExecutionContext) -> MaterializeResult:
        settings = load_settings()
        with open_warehouse(settings) as wh:
            drained = drain_spool(wh, settings.home)
            where = publish_snapshot(wh, settings)
        context.log.info(f"portal snapshot for {context.partition_key} published: {where}")
        return MaterializeResult(metadata={"published": MetadataValue.text(where),
                                           "audit_records_drained": drained})

    return portal_snapshot
