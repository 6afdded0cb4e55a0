"""A run whose process died is marked failed so that Dagster's retry daemon always retries it.

Dagster's retry daemon (EventLogConsumerDaemon) reads new failure events and then their runs,
on its own thread, while another thread (our dead_run_sensor, or `recon run`) reports the
failure. Dagster writes the event before the run's status: a daemon that reads in between finds
the run STARTED, decides "not failed, no retry" and never looks again, and a backfill waits on
that run forever. This test reads at that worst moment, as the daemon would, and asks Dagster's
own retry decision.
"""
import socket
import subprocess

from dagster import DagsterEventType, DagsterRunStatus
from dagster._core.storage.tags import WILL_RETRY_TAG
from dagster._core.test_utils import create_run_for_test, instance_for_test
from dagster._daemon.auto_run_reexecution.auto_run_reexecution import should_retry

from orchestration.dead_runs import HOST_TAG, PID_TAG, fail_dead_runs


def _dead_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


def test_a_dead_runs_failure_event_is_never_seen_before_the_run_is_failed_so_it_is_retried():
    with instance_for_test(overrides={"run_retries": {"enabled": True, "max_retries": 1}}) as instance:
        run = create_run_for_test(instance, job_name="close_cycle_job", status=DagsterRunStatus.STARTED,
                                  tags={HOST_TAG: socket.gethostname(), PID_TAG: str(_dead_pid())})
        storage = instance.event_log_storage
        store_event = storage.store_event
        seen_by_daemon: list[tuple[DagsterRunStatus, bool]] = []

        def store_then_daemon_reads(event):
            store_event(event)
            if event.is_dagster_event and event.dagster_event_type == DagsterEventType.RUN_FAILURE:
                # the retry daemon's read, right after the event is stored
                current = instance.get_run_by_id(run.run_id)
                seen_by_daemon.append((current.status, should_retry(current, instance)))

        # the backfill daemon's read, at the moment the run's status turns FAILURE
        runs = instance.run_storage
        handle_run_event = runs.handle_run_event
        tag_when_failed: list[str | None] = []

        def backfill_reads_then_status(run_id, event, *args, **kwargs):
            if event.event_type == DagsterEventType.RUN_FAILURE and not tag_when_failed:
                tag_when_failed.append(instance.get_run_by_id(run_id).tags.get(WILL_RETRY_TAG))
            return handle_run_event(run_id, event, *args, **kwargs)

        storage.store_event = store_then_daemon_reads
        runs.handle_run_event = backfill_reads_then_status
        notes = fail_dead_runs(instance, by="the test")

        assert len(notes) == 1 and "killed mid-run" in notes[0]
        assert seen_by_daemon == [(DagsterRunStatus.FAILURE, True)]
        assert tag_when_failed == ["true"]   # a backfill never sees it failed for good
        failed = instance.get_run_record_by_id(run.run_id)
        assert failed.dagster_run.status == DagsterRunStatus.FAILURE and failed.end_time is not None
        assert failed.dagster_run.tags[WILL_RETRY_TAG] == "true"
        assert len(instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_FAILURE)) == 1


def test_a_live_runs_process_is_left_alone():
    with instance_for_test(overrides={"run_retries": {"enabled": True, "max_retries": 1}}) as instance:
        live = subprocess.Popen(["sleep", "30"])
        try:
            run = create_run_for_test(instance, job_name="close_cycle_job", status=DagsterRunStatus.STARTED,
                                      tags={HOST_TAG: socket.gethostname(), PID_TAG: str(live.pid)})
            assert fail_dead_runs(instance, by="the test") == []
            assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.STARTED
        finally:
            live.kill()
            live.wait()
