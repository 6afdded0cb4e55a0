"""Dead-run sensor: under the daemon, runs whose process died are marked failed and retried.

Why this is recon's and not Dagster's run monitoring: see orchestration/dead_runs.py (the
default run launcher cannot tell a dead run worker from a live one). Running by default: it
requests nothing, and without it a daemon restarted during a run leaves a backfill waiting
forever on a run that will never finish.
"""
from __future__ import annotations

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from orchestration.dead_runs import fail_dead_runs


def build_dead_run_sensor():
    @sensor(name="dead_run_sensor", minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING,
            description="Marks failed (and so retried) the runs whose process died: a killed run worker, "
                        "a restarted daemon or container. Requests no runs itself.")
    def dead_run_sensor(context: SensorEvaluationContext):
        notes = fail_dead_runs(context.instance, by="dead_run_sensor", launched_here=True)
        for note in notes:
            context.log.warning(note)
        return SkipReason("; ".join(notes) if notes else "every started run has a live process")

    return dead_run_sensor
