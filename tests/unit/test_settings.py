"""Configuration: embedded defaults, recon.yaml, and the environment overriding both."""
from __future__ import annotations

import pytest

from recon_pipeline.settings import ConfigError, load_settings


def test_no_configuration_at_all_runs_embedded(tmp_path):
    settings = load_settings(environ={"RECON_HOME": str(tmp_path)})
    assert settings.duckdb_path == tmp_path / "warehouse.duckdb"
    assert settings.statements_dir == tmp_path / "inbox" / "statements"
    assert settings.events_dir == tmp_path / "inbox" / "events"
    assert settings.sftp is None and settings.kafka is None and not settings.uses_postgres


def test_environment_overrides_the_file(tmp_path):
    config = tmp_path / "recon.yaml"
    config.write_text(
        "home: from_file\n"
        "pay_cycle: {timezone: Europe/Amsterdam, cutoff: '18:00'}\n"
        "sources:\n  kafka: {bootstrap: file:9092, topics: [a, b]}\n"
        "warehouse: {url: 'postgresql://file@db/recon'}\n")
    env = {"RECON_HOME": str(tmp_path / "env_home"), "RECON_KAFKA_TOPIC": "payments.events,refunds",
           "RECON_SFTP_URL": "sftp://bank@127.0.0.1:2222/outbox", "RECON_SFTP_KEY_FILE": "id_ed25519",
           "RECON_WAREHOUSE_URL": "postgresql://env@db/recon"}
    settings = load_settings(config, environ=env)
    assert settings.home == tmp_path / "env_home"
    assert settings.timezone == "Europe/Amsterdam" and settings.cutoff.hour == 18
    assert settings.kafka.bootstrap == "file:9092" and settings.kafka.topics == ("payments.events", "refunds")
    assert (settings.sftp.host, settings.sftp.port, settings.sftp.username, settings.sftp.remote_dir) == \
        ("127.0.0.1", 2222, "bank", "/outbox")
    assert settings.sftp.key_file == tmp_path / "id_ed25519"
    assert settings.warehouse_url == "postgresql://env@db/recon" and settings.uses_postgres


@pytest.mark.parametrize("content, message", [
    ("pay_cycle: {timezone: Mars/Olympus}", "unknown time zone"),
    ("pay_cycle: {cutoff: noon}", "cutoff must be HH:MM"),
    ("[1, 2", "not valid YAML"),
])
def test_a_bad_configuration_is_reported_in_one_line(tmp_path, content, message):
    config = tmp_path / "recon.yaml"
    config.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_settings(config, environ={"RECON_HOME": str(tmp_path)})


def test_an_sftp_url_of_the_wrong_scheme_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="sftp://"):
        load_settings(environ={"RECON_HOME": str(tmp_path), "RECON_SFTP_URL": "ftp://bank/outbox"})
