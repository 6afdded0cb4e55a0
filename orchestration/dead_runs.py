"""Runs whose process died: found, marked failed, their pool slots given back.

A run killed mid-way (SIGKILL, OOM, a reboot, a restarted daemon or container) never reports
its end: it would stay STARTED in the instance forever, holding its steps' pool slots
(recon_cycles, recon_ingestion: one each), and every later run, and a backfill, would wait
behind it. Dagster's run monitoring only sees a dead run worker with a launcher that can check
one (Kubernetes, Docker, ECS); the default launcher, which `make ui`, the compose file and the
daemon here use, cannot. So recon looks itself, in two places:

- `recon run` before it starts (the runs it started itself carry its pid and host as tags);
- ``dead_run_sensor`` under the daemon, every 30 s, for every run: a run launched by the default
  launcher is a process of the code server that evaluates the sensor, and says its pid in its
  first engine event ("Started process for run (pid: N)").

A run marked failed this way failed outside any step, so the instance's run retries
(``run_retries`` in dagster.yaml) launch it again; a cycle's build is idempotent, and a
backfill waiting on the run goes on with the retry.
"""
from __future__ import annotations

import logging
import os
import re
import socket

from dagster import DagsterEvent, DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter
from dagster._core.execution.retries import auto_reexecution_should_retry_run
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.storage.tags import WILL_RETRY_TAG

PID_TAG = "recon/pid"
HOST_TAG = "recon/host"
_STARTED_PROCESS = re.compile(r"Started process for run \(pid: (\d+)\)")


def run_tags() -> dict[str, str]:
    """Who runs this (for runs `recon run` executes in its own process)."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _launched_worker_pid(instance: DagsterInstance, run: DagsterRun) -> int | None:
    """The pid the run worker of a launched run announced, if it got that far."""
    for record in instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT):
        match = _STARTED_PROCESS.search(record.user_message or (record.dagster_event.message or ""))
        if match:
            return int(match.group(1))
    return None


def fail_dead_runs(instance: DagsterInstance, by: str, launched_here: bool = False) -> list[str]:
    """Mark failed the STARTED runs of this host whose process is gone; one note per run.

    ``launched_here``: also the runs the instance's default launcher started (true only in a
    process of the code server that launches them: the sensor).
    """
    notes = []
    host = socket.gethostname()
    default_launcher = isinstance(instance.run_launcher, DefaultRunLauncher)
    for run in instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING])):
        if run.tags.get(HOST_TAG):
            pid_text = run.tags.get(PID_TAG, "")
            pid = int(pid_text) if run.tags[HOST_TAG] == host and pid_text.isdigit() else None
        elif launched_here and default_launcher and run.status == DagsterRunStatus.STARTED:
            pid = _launched_worker_pid(instance, run)
        else:
            pid = None
        if pid is None or pid == os.getpid() or _process_alive(pid):
            continue
        # A worker exits right after it reports its end: a run that finished between the listing
        # and the pid check is not dead, it is done.
        current = instance.get_run_by_id(run.run_id)
        if current is None or current.status not in (DagsterRunStatus.STARTED, DagsterRunStatus.STARTING):
            continue
        message = f"process {pid} that ran it is gone (killed mid-run); marked failed by {by}"
        try:
            _mark_failed(instance, current, message)
        finally:
            # A dead process never gives its pool slots back: every later run would wait for them.
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        notes.append(f"run {run.run_id[:8]} ({run.job_name}) was left STARTED: {message}")
    return notes


def _mark_failed(instance: DagsterInstance, run: DagsterRun, message: str) -> None:
    """Whether the run will be retried, then its FAILURE status, then its failure event.

    Why the order: Dagster stores a failure event first and sets the run's status and its
    will-retry tag afterwards, in separate writes. Its retry daemon reads new failure events,
    then their runs: a run it still finds STARTED "is not failed", gets no retry and is never
    looked at again, and a backfill waits forever on a retry that was decided but never launched
    (seen in CI on 2026-12-01: a killed backfill run, 1,000 s of "retries have not been
    launched"). The backfill daemon, for its part, counts a FAILURE run without the tag as
    failed for good. In this order, no reader sees a failure event of a run that is not yet
    FAILURE, nor a FAILURE run without its will-retry tag."""
    if instance.run_retries_enabled:
        will_retry = auto_reexecution_should_retry_run(instance, run.with_status(DagsterRunStatus.FAILURE), None)
        instance.add_run_tags(run.run_id, {WILL_RETRY_TAG: str(will_retry).lower()})
    failure = DagsterEvent(event_type_value=DagsterEventType.RUN_FAILURE.value, job_name=run.job_name,
                           message=message)
    instance.run_storage.handle_run_event(run.run_id, failure)
    # the same event, now stored (what report_run_failed would build again)
    instance.report_dagster_event(failure, run_id=run.run_id, log_level=logging.ERROR)
