"""A `recon run` killed while dbt builds takes its dbt with it (dbt runs in the run's process), and the next run marks the
dead run failed instead of leaving it STARTED forever (issue #11 item 10). Real processes,
real Dagster instance, real DuckDB file."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import threading
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


def collect_lines(proc: subprocess.Popen, lines: list[str]) -> None:
    """Every line the process prints, as it prints it (read on a thread of the test)."""
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))


def dbt_step_started(lines: list[str], cycle: str) -> bool:
    """`recon run` has said that the cycle's dbt step began (its line per step)."""
    return any(line.strip() == f"[{cycle}] reconcile_pay_cycle: started" for line in lines)


def test_a_killed_run_takes_dbt_with_it_and_is_marked_failed_by_the_next(tmp_path):
    day = dt.date(2026, 11, 10)
    generate_scenario(tmp_path / "scenario", start=day, days=1, payments_per_day=5, seed=3)
    home = make_home(tmp_path)
    deliver(tmp_path / "scenario", home)
    proc = subprocess.Popen([RECON, "run", "--through", day.isoformat()], env=home.env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=collect_lines, args=(proc, lines), daemon=True).start()
    deadline = time.monotonic() + 600
    while not dbt_step_started(lines, day.isoformat()) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert dbt_step_started(lines, day.isoformat()), "dbt never started:\n" + "\n".join(lines[-20:])
    time.sleep(1.0)  # into the build: dbt is creating the cycle's tables

    before = set(_descendants(proc.pid))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # Nothing of the run is left writing: no process it started lives on, and the warehouse
    # opens for writing at once (a DuckDB file has one writer; a dbt left behind would hold it).
    gone_by = time.monotonic() + 15
    while any(_alive(p) for p in before) and time.monotonic() < gone_by:
        time.sleep(0.2)
    assert not any(_alive(p) for p in before), [_cmdline(p) for p in before if _alive(p)]
    import duckdb
    duckdb.connect(str(home.settings().duckdb_path)).close()

    again = home.run("run", "--through", day.isoformat())

    assert "was left STARTED" in again.stdout and "marked failed" in again.stdout
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(home.home / "dagster")))
    try:
        assert instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED])) == []
        assert instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.FAILURE]))
    finally:
        instance.dispose()
