"""Local inbox sensor: lands new files from the inbox folders and asks for an ingest run.

The pick-up is the domain's (``sources.pickup.pick_up_inbox``, the one ``recon run`` calls).
The run key is the landed file's sha256, so a file re-delivered under any name asks for
nothing, and replaying a tick is harmless: landing is content-addressed.
"""
from __future__ import annotations

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

from recon_pipeline.landing import LandingZone
from recon_pipeline.run_tags import trigger_tags
from recon_pipeline.sources.pickup import SOURCE_TAG, pick_up_inbox
from sensors.tick_settings import settings_or_skip


def build_inbox_sensor(job_name: str = "ingest_job"):
    @sensor(name="inbox_sensor", job_name=job_name, minimum_interval_seconds=30,
            default_status=DefaultSensorStatus.STOPPED,
            description="Picks up new statement and event files dropped in the local inbox folders.")
    def inbox_sensor(context: SensorEvaluationContext):
        settings = settings_or_skip()
        if isinstance(settings, SkipReason):
            return settings
        settings.ensure_dirs()
        requests = []
        for kind, scan in pick_up_inbox(settings, LandingZone(settings.landing_dir)):
            for name, reason in scan.refused:
                context.log.warning(f"inbox {kind}: refused {name}: {reason}")
            for landed in scan.landed:
                requests.append(RunRequest(run_key=landed.sha256, tags={
                    **trigger_tags("sensor"), SOURCE_TAG: "inbox", "recon/sha256": landed.sha256,
                    "recon/file": landed.original_name}))
        if not requests:
            return SkipReason("no new files in the inbox folders")
        return requests

    return inbox_sensor
