"""The SFTP sensor: each tick lands whatever complete statement files the bank has dropped.

The pick-up is the domain's (``sources.pickup.pick_up_sftp``, the one ``recon run`` calls):
the looks the two-look stability rule needs are kept in the warehouse (``raw.sftp_looks``),
not in the cursor, so ``recon run`` and the sensor see each other's looks. Run keys are the
landed file's sha256, so a run request can be repeated safely: Dagster skips a run key it has
already seen. That is why files whose bytes were already landed are requested again too — a
tick that died after landing but before its run requests reached Dagster is replayed by the
next tick, while a genuine re-delivery (same bytes, any name) maps to a used run key and
changes nothing.
"""
from __future__ import annotations

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from recon_pipeline.landing.zone import LandedFile, LandingZone
from recon_pipeline.run_tags import trigger_tags
from recon_pipeline.sources.pickup import SOURCE_TAG, PickupError, pick_up_sftp
from recon_pipeline.sources.sftp.errors import SftpSourceError, one_line
from sensors.tick_settings import settings_or_skip

SENSOR_NAME = "sftp_statements_sensor"
TICK_DEADLINE_SECONDS = 45.0
NOT_CONFIGURED = "no SFTP source configured (set RECON_SFTP_URL)"


def run_request_for(landed: LandedFile, job_name: str) -> RunRequest:
    return RunRequest(
        run_key=landed.sha256,
        job_name=job_name,
        tags={**trigger_tags("sensor"), SOURCE_TAG: "sftp", "recon/sha256": landed.sha256,
              "recon/file": landed.original_name},
    )


def build_sftp_sensor(job_name: str = "ingest_job") -> SensorDefinition:
    """A sensor that pulls statements over SFTP and requests ``job_name`` once per landed file."""

    @sensor(
        name=SENSOR_NAME,
        job_name=job_name,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.STOPPED,
        description="Lands complete bank statement files from the bank's SFTP server "
                    "(verified host key, two-look or marker-file stability) and requests "
                    "one ingest run per file, keyed by its sha256.",
    )
    def sftp_statements_sensor(context: SensorEvaluationContext):
        settings = settings_or_skip()
        if isinstance(settings, SkipReason):
            return settings
        if settings.sftp is None:
            return SkipReason(NOT_CONFIGURED)
        try:
            # Shorter than Dagster's 60 s sensor-tick timeout: a trickling server ends the pull,
            # not the tick (the rest is taken next tick).
            result = pick_up_sftp(settings, LandingZone(settings.landing_dir), deadline=TICK_DEADLINE_SECONDS)
        except (SftpSourceError, PickupError) as exc:
            # The stored looks are left alone: they are still the last good ones.
            reason = str(exc) if isinstance(exc, PickupError) else one_line(exc)
            context.log.warning("SFTP pull failed: %s", reason)
            return SkipReason(reason)

        for error in result.errors:
            context.log.warning("SFTP: %s", error)
        # One request per sha256: two names with the same bytes in one tick are one file.
        unique: dict[str, LandedFile] = {}
        for landed in result.landed + result.redelivered:
            unique.setdefault(landed.sha256, landed)
        requests = [run_request_for(f, job_name) for f in unique.values()]
        if requests:
            return requests
        if result.errors:
            return SkipReason(result.errors[0] if len(result.errors) == 1
                              else f"{result.errors[0]} (and {len(result.errors) - 1} more)")
        if result.skipped_unstable:
            return SkipReason(f"{len(result.skipped_unstable)} file(s) not yet complete: "
                              + ", ".join(result.skipped_unstable[:5]))
        return SkipReason("no new statement files")

    return sftp_statements_sensor
