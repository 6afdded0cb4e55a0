"""The Dagster code location: it validates, cycles are daily partitions, and the inbox
sensor asks for one ingest run per new file, keyed by its content."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from dagster import DagsterInstance, DailyPartitionsDefinition, RunRequest, build_sensor_context

ROOT = Path(__file__).resolve().parents[2]


def test_dagster_definitions_validate_loads_the_workspace_as_dagster_dev_does(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "DAGSTER_"))}
    env.update(RECON_HOME=str(tmp_path / "home"), DAGSTER_HOME=str(tmp_path / "dagster"))
    # As under `dagster dev`: dev mode on, and the venv's bin not necessarily on PATH.
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env["DAGSTER_IS_DEV_CLI"] = "1"
    (tmp_path / "dagster").mkdir()
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.run([str(dagster), "definitions", "validate", "-w", "workspace.yaml"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_pay_cycles_are_daily_partitions_shared_by_every_cycle_asset(monkeypatch, tmp_path):
    monkeypatch.setenv("RECON_HOME", str(tmp_path))
    monkeypatch.delenv("RECON_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    from orchestration.definitions import CLOSE_JOB, INGEST_JOB, build_definitions

    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    cycle_assets = [key for key in graph.get_all_asset_keys()
                    if key.path[0] in ("marts", "intermediate", "staging", "cycle_inputs", "close_pack")]
    assert {"close_pack", "cycle_inputs", "marts"} <= {k.path[0] for k in cycle_assets}
    for key in cycle_assets:
        partitions = graph.get(key).partitions_def
        assert isinstance(partitions, DailyPartitionsDefinition)
        # A home without data or first_cycle starts at today's cycle, not years of empty ones.
        assert partitions.get_first_partition_key() == dt.date.today().isoformat()
        assert len(partitions.get_partition_keys()) <= 2
    assert defs.resolve_job_def(CLOSE_JOB).partitions_def is not None
    assert defs.resolve_job_def(INGEST_JOB).partitions_def is None
    assert {s.name for s in defs.sensors} >= {"inbox_sensor", "sftp_statements_sensor", "kafka_events_sensor"}
    assert [s.name for s in defs.schedules] == ["end_of_cycle_close"]


def test_inbox_sensor_requests_one_run_per_new_file_keyed_by_its_sha256(monkeypatch, tmp_path):
    monkeypatch.setenv("RECON_HOME", str(tmp_path))
    from recon_pipeline.ids import sha256_bytes
    from sensors.inbox_sensor import build_inbox_sensor

    statements = tmp_path / "inbox" / "statements"
    statements.mkdir(parents=True)
    body = b":20:STMT\n:25:NL91ABNA0417164300\n"
    (statements / "day1.sta").write_bytes(body)
    sensor = build_inbox_sensor()
    with DagsterInstance.ephemeral() as instance:
        first = sensor(build_sensor_context(instance=instance))
        (statements / "day1_again.sta").write_bytes(body)     # the same bytes under another name
        second = sensor(build_sensor_context(instance=instance))
    assert [r.run_key for r in first if isinstance(r, RunRequest)] == [sha256_bytes(body)]
    assert not isinstance(second, list) or not [r for r in second if isinstance(r, RunRequest)]


def test_the_close_schedule_builds_the_cycle_that_closed_at_the_last_cutoff(monkeypatch, tmp_path):
    # Cut-off 17:00 in Amsterdam: cycle 2026-11-10 closes at 17:00 local on the 10th (CONTRACT §2);
    # the close runs six hours later, at 23:00 local, and must build the 10th, not the 9th.
    import datetime as dt
    from zoneinfo import ZoneInfo

    from dagster import build_schedule_context

    (tmp_path / "recon.yaml").write_text("first_cycle: '2026-11-01'\n"
                                         "pay_cycle:\n  timezone: Europe/Amsterdam\n  cutoff: '17:00'\n")
    monkeypatch.setenv("RECON_HOME", str(tmp_path))
    monkeypatch.setenv("RECON_CONFIG", str(tmp_path / "recon.yaml"))
    from orchestration.definitions import build_definitions

    defs = build_definitions()
    schedule = defs.resolve_schedule_def("end_of_cycle_close")
    assert schedule.cron_schedule == "0 23 * * *" and schedule.execution_timezone == "Europe/Amsterdam"
    tick = dt.datetime(2026, 11, 10, 23, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    with DagsterInstance.ephemeral() as instance:
        result = schedule.evaluate_tick(build_schedule_context(
            instance=instance, scheduled_execution_time=tick, repository_def=defs.get_repository_def()))
    assert [r.partition_key for r in result.run_requests] == ["2026-11-10"]
