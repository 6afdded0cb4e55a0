"""The portal's read model, published at the end of every close job (after the close pack).

DuckDB lets one process write the warehouse, and while a build holds it no other process may
open it at all; the portal must keep answering during builds and never block one. So the
writer publishes what the portal reads (a read-only snapshot file on DuckDB, a swapped
``portal`` schema on Postgres: recon_pipeline/portal/snapshot.py). The same writer first
appends the access records the portal spooled meanwhile (downloads, searches) to
``ops.audit_log``: it is the one process allowed to.
"""
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, ResourceParam, asset

from orchestration.instance import CYCLES_POOL
from orchestration.partitions import ONE_CYCLE_PER_RUN
from orchestration.resources import Recon
from recon_pipeline.audit import drain_spool
from recon_pipeline.portal.snapshot import publish_snapshot


def build_portal_snapshot_asset(partitions_def):
    @asset(name="portal_snapshot", group_name="reports", partitions_def=partitions_def,
           deps=[AssetKey("close_pack")], backfill_policy=ONE_CYCLE_PER_RUN, pool=CYCLES_POOL,
           kinds={"duckdb"},
           description="What the finance portal (`recon serve`) reads: marts and sorted search tables, "
                       "published atomically; drains the portal's spooled audit records first.")
    def portal_snapshot(context: AssetExecutionContext, recon: ResourceParam[Recon]) -> MaterializeResult:
        with recon.warehouse() as wh:
            drained = drain_spool(wh, recon.settings.home)
            published = publish_snapshot(wh, recon.settings)
        context.log.info(f"portal snapshot for {context.partition_key} published: {published.where}, "
                         f"{published.how}")
        return MaterializeResult(metadata={"published": MetadataValue.text(published.where),
                                           "how": MetadataValue.text(published.how),
                                           "audit_records_drained": drained})

    return portal_snapshot
