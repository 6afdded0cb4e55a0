"""Under `dagster-daemon run` on a Postgres-backed instance, the inbox sensor and the
end-of-cycle schedule tick by themselves and their runs say why they ran.

The schedule fires six hours after the cut-off, so the test sets the cut-off to a few minutes
from now minus six hours: the daemon's next tick then falls inside the test.
"""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import yaml
from dagster import DagsterRunStatus, RunsFilter

from recon_pipeline.cycles import cycle_of
from recon_pipeline.scenario.generator import generate_scenario
from recon_pipeline.settings import load_settings
from recon_pipeline.warehouse.connection import open_warehouse
from tests.orchestration.services import (
    BIN,
    ROOT,
    DagsterService,
    instance_for,
    recon_env,
    wait_for,
)
from tests.postgres_databases import postgres_databases


def _finished(instance, tags: dict[str, str]):
    runs = instance.get_runs(RunsFilter(tags=tags))
    done = [r for r in runs if r.status in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE,
                                            DagsterRunStatus.CANCELED)]
    return done if runs and len(done) == len(runs) else None


def test_the_inbox_sensor_and_the_close_schedule_tick_under_the_daemon_on_postgres(tmp_path, monkeypatch):
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    fire_at = now + dt.timedelta(minutes=10)          # time to load the code and start both
    cutoff = fire_at - dt.timedelta(hours=6)
    home = tmp_path / "home"
    home.mkdir()
    (home / "recon.yaml").write_text(yaml.safe_dump({"pay_cycle": {
        "timezone": "UTC", "cutoff": cutoff.strftime("%H:%M"),
        "first_cycle": (now.date() - dt.timedelta(days=3)).isoformat()}}))
    generate_scenario(tmp_path / "scenario", start=now.date() - dt.timedelta(days=2), days=1,
                                 payments_per_day=4, seed=3)
    statement = sorted((tmp_path / "scenario" / "statements").iterdir())[0]

    with postgres_databases(1) as (storage_url,):
        env = recon_env(home, RECON_CONFIG=str(home / "recon.yaml"), RECON_DAGSTER_STORAGE_URL=storage_url)
        service = DagsterService(env, tmp_path, webserver=False)
        try:
            for kind, name in (("sensor", "inbox_sensor"), ("schedule", "end_of_cycle_close")):
                started = subprocess.run([str(BIN / "dagster"), kind, "start", name, "-w", "workspace.yaml"],
                                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
                assert started.returncode == 0, started.stdout + started.stderr
            assert dt.datetime.now(dt.UTC) < fire_at, "starting took longer than the time to the tick"

            inbox = home / "inbox" / "statements"
            inbox.mkdir(parents=True, exist_ok=True)
            shutil.copy2(statement, inbox / statement.name)

            instance = instance_for(env, monkeypatch)
            sensor_runs = wait_for(lambda: _finished(instance, {"dagster/sensor_name": "inbox_sensor"}),
                                   900, "the inbox sensor's run")
            scheduled = wait_for(lambda: _finished(instance, {"dagster/schedule_name": "end_of_cycle_close"}),
                                 1200, "the end-of-cycle schedule's run")
        finally:
            service.stop()

        assert [r.status for r in sensor_runs] == [DagsterRunStatus.SUCCESS], service.log("daemon")
        assert sensor_runs[0].tags["recon/trigger"] == "sensor"
        assert sensor_runs[0].tags["recon/file"] == statement.name
        with open_warehouse(load_settings(environ=env), read_only=True) as wh:
            assert wh.fetchone("select count(*) from raw.statement_lines")[0] > 0

        assert [r.status for r in scheduled] == [DagsterRunStatus.SUCCESS], service.log("daemon")
        assert scheduled[0].tags["recon/trigger"] == "schedule"
        # The run closes the cycle that ended at the cut-off six hours before the tick.
        ended = cycle_of(cutoff - dt.timedelta(seconds=1), "UTC", cutoff.time())
        assert scheduled[0].tags["dagster/partition"] == ended.isoformat()
