"""A `recon run` killed while dbt builds takes its dbt with it, and the next run marks the
dead run failed instead of leaving it STARTED forever (issue #11 item 10). Real processes,
real Dagster instance, real DuckDB file."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.instance.ref import InstanceRef

from recon_pipeline.scenario.generator import generate_scenario
from tests.e2e.conftest import RECON, deliver, make_home


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> list[int]:
    tree, out, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_run_takes_dbt_with_it_and_is_marked_failed_by_the_next(tmp_path):
    day = dt.date(2026, 11, 10)
    generate_scenario(tmp_path / "scenario", start=day, days=1, payments_per_day=5, seed=3)
    home = make_home(tmp_path)
    deliver(tmp_path / "scenario", home)
    proc = subprocess.Popen([RECON, "run", "--through", day.isoformat()], env=home.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dbt_pids: list[int] = []
    deadline = time.monotonic() + 600
    while not dbt_pids and time.monotonic() < deadline and proc.poll() is None:
        dbt_pids = [p for p in _descendants(proc.pid) if " build " in _cmdline(p) and "dbt" in _cmdline(p)]
        time.sleep(0.2)
    assert dbt_pids, "dbt never started"

    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone_by = time.monotonic() + 15
    while any(_alive(p) for p in dbt_pids) and time.monotonic() < gone_by:
        time.sleep(0.2)
    assert not any(_alive(p) for p in dbt_pids), [_cmdline(p) for p in dbt_pids if _alive(p)]

    again = home.run("run", "--through", day.isoformat())

    assert "was left STARTED" in again.stdout and "marked failed" in again.stdout
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(home.home / "dagster")))
    try:
        assert instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED])) == []
        assert instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.FAILURE]))
    finally:
        instance.dispose()
