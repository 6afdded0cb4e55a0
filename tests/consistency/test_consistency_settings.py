"""recon.yaml's internal_consistency section and several event folders reach the pipeline."""
from __future__ import annotations

import os

import pytest

from recon_pipeline.cycles import dbt_vars_for_cycle
from recon_pipeline.settings import ConfigError, load_settings


def _config(tmp_path, text: str):
    path = tmp_path / "recon.yaml"
    path.write_text(text)
    return path


def test_without_the_section_nothing_is_tracked_and_dbt_keeps_its_defaults(tmp_path):
    settings = load_settings(environ={"RECON_HOME": str(tmp_path)})
    assert settings.internal_consistency is None
    assert not any(key.startswith(("internal_", "report_within", "late_after"))
                   for key in dbt_vars_for_cycle("2026-11-09", settings))


def test_flows_and_deadlines_reach_dbt_in_minutes(tmp_path):
    config = _config(tmp_path, "internal_consistency:\n"
                               "  flows: {payouts: [ledger, gateway], collections: [ledger]}\n"
                               "  report_within_hours: 24\n  late_after_hours: 1.5\n")
    settings = load_settings(config, environ={"RECON_HOME": str(tmp_path)})
    assert settings.internal_consistency.flows == {"payouts": ("ledger", "gateway"), "collections": ("ledger",)}
    dbt_vars = dbt_vars_for_cycle("2026-11-09", settings)
    assert dbt_vars["internal_consistency_enabled"] is True
    assert dbt_vars["internal_flows"] == {"collections": ["ledger"], "payouts": ["ledger", "gateway"]}
    assert (dbt_vars["report_within_minutes"], dbt_vars["late_after_minutes"]) == (1440, 90)


def test_an_empty_section_tracks_whoever_reports_with_the_contract_defaults(tmp_path):
    settings = load_settings(_config(tmp_path, "internal_consistency: {}\n"), environ={"RECON_HOME": str(tmp_path)})
    ic = settings.internal_consistency
    assert (dict(ic.flows), ic.report_within_hours, ic.late_after_hours) == ({}, 24.0, 2.0)


@pytest.mark.parametrize("section, message", [
    ("internal_consistency: {flows: [payouts]}", "flows must map"),
    ("internal_consistency: {report_within_hours: soon}", "report_within_hours must be a number"),
    ("internal_consistency: {late_after_hours: -1}", "late_after_hours must not be negative"),
])
def test_a_bad_section_is_reported_in_one_line(tmp_path, section, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(_config(tmp_path, section), environ={"RECON_HOME": str(tmp_path)})


def test_the_events_folder_setting_accepts_several_folders(tmp_path):
    env = {"RECON_HOME": str(tmp_path), "RECON_EVENTS_DIR": os.pathsep.join(["payouts", "ledger"])}
    config = _config(tmp_path, "sources: {events_dirs: [a, b, c]}\n")
    assert load_settings(config, environ=env).events_dirs == (tmp_path / "payouts", tmp_path / "ledger")
    from_file = load_settings(config, environ={"RECON_HOME": str(tmp_path)})
    assert from_file.events_dirs == (tmp_path / "a", tmp_path / "b", tmp_path / "c")
    assert from_file.events_dir == tmp_path / "a"


def test_the_demo_tracks_our_services_with_the_generators_flows_when_unconfigured(tmp_path, monkeypatch):
    from orchestration.cli import _demo_internal_consistency

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECON_CONFIG", "")   # unset for the demo, restored after the test
    monkeypatch.setenv("RECON_HOME", str(tmp_path / "home"))
    settings, participants = _demo_internal_consistency(load_settings(), None)
    assert participants and settings.internal_consistency.flows["payouts"] == ("ledger", "gateway")
    assert settings.home == tmp_path / "home" and (tmp_path / "home" / "recon.yaml").is_file()
    # Every later command on that home (resolve, run, the UI) reads the same configuration,
    # with nothing exported: a rebuild after a decision keeps tracking the services.
    later = load_settings(environ={"RECON_HOME": str(tmp_path / "home")})
    assert later.internal_consistency == settings.internal_consistency


def test_the_default_home_reads_its_own_configuration_and_stays_the_home(tmp_path, monkeypatch):
    """`make demo` then `recon run` with nothing set: ./recon_home/recon.yaml is read and the
    home stays ./recon_home (not a recon_home inside it, relative to the file)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "recon_home").mkdir()
    (tmp_path / "recon_home" / "recon.yaml").write_text("settlement_window_days: 5\n")
    settings = load_settings(environ={})
    assert settings.settlement_window_days == 5
    assert settings.home == tmp_path / "recon_home"


def test_a_homes_own_configuration_is_read_last(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    (home / "recon.yaml").write_text("settlement_window_days: 5\n")
    assert load_settings(environ={"RECON_HOME": str(home)}).settlement_window_days == 5
    (tmp_path / "recon.yaml").write_text("settlement_window_days: 4\n")
    assert load_settings(environ={"RECON_HOME": str(home)}).settlement_window_days == 4
    (tmp_path / "cfg").mkdir()
    explicit = _config(tmp_path / "cfg", "settlement_window_days: 2\n")
    assert load_settings(environ={"RECON_HOME": str(home), "RECON_CONFIG": str(explicit)}).settlement_window_days == 2


def test_the_demo_leaves_a_users_own_configuration_alone(tmp_path, monkeypatch):
    from orchestration.cli import _demo_internal_consistency

    config = _config(tmp_path, "settlement_window_days: 3\n")
    monkeypatch.setenv("RECON_CONFIG", str(config))
    settings = load_settings(environ={"RECON_HOME": str(tmp_path), "RECON_CONFIG": str(config)})
    assert _demo_internal_consistency(settings, None) == (settings, False)
