"""A cycle's dbt build in the step's process: the project is parsed once per process and again
only when it changed, and a build that fails before any model says dbt's own reason."""
from __future__ import annotations

from orchestration import dbt_in_process
from orchestration.dbt_in_process import parsed_project
from recon_pipeline.dbt_setup import newest_source_mtime
from recon_pipeline.warehouse.dbt_failures import dbt_error_line

VARS = ["--vars", '{"pay_cycle_cutoff_minutes": 0, "pay_cycle_timezone": "UTC", "settlement_window_days": 3}']


def test_the_project_is_parsed_once_per_process_and_again_when_a_model_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_DBT_TARGET", "duckdb")
    monkeypatch.setenv("RECON_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    first = parsed_project(VARS)
    assert "model.recon.fct_exceptions" in first.nodes
    assert parsed_project(VARS) is first                      # the next cycle: no parse at all

    edited = newest_source_mtime() + 5                        # a model saved since (the files stay as they are)
    monkeypatch.setattr(dbt_in_process, "newest_source_mtime", lambda: edited)
    second = parsed_project(VARS)
    assert second is not first and parsed_project(VARS) is second
    monkeypatch.setenv("RECON_DUCKDB_PATH", str(tmp_path / "other.duckdb"))
    assert parsed_project(VARS) is not second                 # another warehouse: relations differ


def test_a_build_that_fails_before_any_model_says_dbts_reason_in_one_line():
    raised = ("Database Error\n  connection to server at \"127.0.0.1\", port 5433 failed: Connection refused\n"
              "\tIs the server running on that host and accepting TCP/IP connections?")
    line = dbt_error_line(raised, 2, "/x/dbt.log")
    assert line.startswith("dbt build failed (exit code 2): Database Error connection to server")
    assert "\n" not in line and "Connection refused" in line
    assert dbt_error_line("", 2, "/x/dbt.log") == "dbt build failed with exit code 2 (dbt's log: /x/dbt.log)"
