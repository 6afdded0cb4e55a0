"""Ingestion assets: landed files → raw warehouse tables.

They are not partitioned: a statement file or an event snapshot may span many pay cycles.
A run requested by a sensor or started by ``recon run`` finds its input already picked up
(``sources.pickup``: each source scanned once per tick or run); any other run — launched from
the UI — sweeps the local inbox folders first. A run lands the Kafka ranges its run tags name
(planned by the Kafka sensor), then loads every landed file not loaded before. Counts in =
counts landed + counts quarantined, shown as materialization metadata.
"""

from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, MetadataValue, ResourceParam, asset

from orchestration.instance import INGESTION_POOL
from orchestration.resources import Recon
from recon_pipeline.events.kafka.plan import ranges_from_json
from recon_pipeline.landing import LandingZone
from recon_pipeline.pipeline import adopt_first_cycle, data_cycles
from recon_pipeline.sources.kafka import land_planned_ranges
from recon_pipeline.sources.pickup import pick_up_inbox, picked_up_for
from recon_pipeline.warehouse.load_events import load_event_files
from recon_pipeline.warehouse.load_statements import load_statement_files

operator_decisions = AssetSpec(
    "operator_decisions",
    description="Append-only operator log (ops.exception_resolutions, ops.manual_matches), "
                "written by `recon resolve` and `recon match`.",
    group_name="ingestion",
)


@asset(group_name="ingestion", pool=INGESTION_POOL,
       description="Bank statement files parsed into raw.statements / raw.statement_lines, "
                   "or quarantined with their bytes and a one-line reason.")
def raw_bank_statements(context: AssetExecutionContext, recon: ResourceParam[Recon]) -> MaterializeResult:
    settings = recon.settings
    settings.ensure_dirs()
    landing = LandingZone(settings.landing_dir)
    inbox_landed = _sweep_inbox(context, settings, landing, "statements")
    with recon.warehouse() as wh:
        result = load_statement_files(wh, landing, settings.csv_profiles)
    for name, reason in result.quarantined:
        context.log.warning(f"quarantined statement file {name}: {reason}")
    _record_first_cycle(context, settings)
    return MaterializeResult(metadata={
        **result.as_metadata(),
        "inbox_new_files": inbox_landed,
        "quarantined_files": MetadataValue.json([{"file": n, "reason": r} for n, r in result.quarantined]),
    })


@asset(group_name="ingestion", pool=INGESTION_POOL,
       description="Payment events (Kafka ranges and snapshot files) validated into raw.payment_events, "
                   "or quarantined in raw.quarantine_events with their raw bytes and reason.")
def raw_payment_events(context: AssetExecutionContext, recon: ResourceParam[Recon]) -> MaterializeResult:
    settings = recon.settings
    settings.ensure_dirs()
    landing = LandingZone(settings.landing_dir)
    inbox_landed = _sweep_inbox(context, settings, landing, "events")
    ranges_tag = context.run.tags.get("recon/kafka_ranges") if context.run else None
    if ranges_tag and settings.kafka is not None:
        land_planned_ranges(settings, ranges_from_json(ranges_tag), run_id=context.run_id)
    with recon.warehouse() as wh:
        result = load_event_files(wh, landing)
    for key, reason in result.quarantined[:50]:
        context.log.warning(f"quarantined event {key}: {reason}")
    _record_first_cycle(context, settings)
    return MaterializeResult(metadata={
        **result.as_metadata(),
        "inbox_new_files": inbox_landed,
    })


def _sweep_inbox(context: AssetExecutionContext, settings, landing: LandingZone, kind: str) -> int:
    """New inbox files of ``kind`` landed now: none when the run's input was picked up before it."""
    if context.run is not None and picked_up_for(dict(context.run.tags)):
        return 0
    landed = 0
    for _kind, scan in pick_up_inbox(settings, landing, kinds=(kind,)):
        landed += len(scan.landed)
        for name, reason in scan.refused:
            context.log.warning(f"refused inbox file {name}: {reason}")
    return landed


def _record_first_cycle(context: AssetExecutionContext, settings) -> None:
    """Data loaded here (say by a sensor's run) moves the pay cycles' start to where it starts."""
    adopted = adopt_first_cycle(settings, data_cycles(settings))
    if adopted.first_cycle != settings.first_cycle:
        context.log.info(f"pay cycles now start at {adopted.first_cycle} (recorded in {adopted.first_cycle_record}); "
                         "reload the code location to see their partitions")
