"""A cycle's dbt build learns its cycle from the environment, so dbt's partial parsing holds.

Why it matters: with the cycle in ``--vars`` dbt re-parsed the whole project for every
cycle (the fixed cost of a month of small cycles). These tests run the real dbt of this venv
on a throwaway target folder and DuckDB file.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from recon_pipeline.cycles import dbt_vars_for_cycle
from recon_pipeline.dbt_setup import DBT_PROJECT_DIR, dbt_cycle_invocation, dbt_executable
from recon_pipeline.settings import load_settings


def _dbt(args: list[str], target: Path, cycle_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECON_")}
    env.update(cycle_env, RECON_DBT_TARGET="duckdb", RECON_DUCKDB_PATH=str(target / "w.duckdb"),
               DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    return subprocess.run([dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR),
                           "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(target)],
                          env=env, capture_output=True, text=True, timeout=900)


def _invocation(cycle: str, tmp_path: Path, monkeypatch) -> tuple[list[str], dict[str, str]]:
    monkeypatch.setenv("RECON_HOME", str(tmp_path / "home"))
    return dbt_cycle_invocation(dbt_vars_for_cycle(cycle, load_settings()))


def test_the_cycle_in_the_environment_is_the_cycle_dbt_builds_and_explicit_vars_win(tmp_path, monkeypatch):
    vars_args, env = _invocation("2026-10-05", tmp_path, monkeypatch)
    assert "2026-10-05" not in " ".join(vars_args)  # the cycle is not a var any more
    inline = ["compile", "--inline", "select {{ pay_cycle() }} as c, {{ cycle_end_utc() }} as e"]
    from_env = _dbt([*inline, *vars_args], tmp_path, env)
    assert from_env.returncode == 0, from_env.stdout[-2000:]
    assert "cast('2026-10-05' as date)" in from_env.stdout
    assert "cast('2026-10-06 00:00:00' as timestamp)" in from_env.stdout
    explicit = _dbt([*inline, "--vars", json.dumps({"pay_cycle": "2026-01-09"})], tmp_path, env)
    assert explicit.returncode == 0, explicit.stdout[-2000:]
    assert "cast('2026-01-09' as date)" in explicit.stdout


def test_a_second_cycle_reparses_no_file(tmp_path, monkeypatch):
    parsed = []
    for cycle in ("2026-10-01", "2026-10-02"):
        vars_args, env = _invocation(cycle, tmp_path, monkeypatch)
        result = _dbt(["parse", *vars_args], tmp_path, env)
        assert result.returncode == 0, result.stdout[-2000:]
        parsed.append(json.loads((tmp_path / "perf_info.json").read_text())["parsed_path_count"])
    assert parsed[0] > 0 and parsed[1] == 0, parsed
