"""What the pipeline does is in the audit trail (CONTRACT §3 `ops.audit_log`): each landed file
with its sha256, each quarantine with its reason, each Kafka offset range, each cycle built
with its run id and fingerprint — and the chain still verifies."""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from recon_pipeline.audit import read_audit_log, verify_chain
from recon_pipeline.landing import LandingZone
from recon_pipeline.scenario.generator import generate_scenario
from recon_pipeline.settings import load_settings
from recon_pipeline.warehouse.connection import open_warehouse
from recon_pipeline.warehouse.cycle_builds import record_build
from recon_pipeline.warehouse.kafka_ledger import record_range
from recon_pipeline.warehouse.load_events import load_event_files
from recon_pipeline.warehouse.load_statements import load_statement_files


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_HOME", str(tmp_path / "home"))
    for key in ("RECON_WAREHOUSE_URL", "RECON_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    return load_settings()


def _records(settings) -> list:
    with open_warehouse(settings) as wh:
        records = list(read_audit_log(wh))
    assert verify_chain(records)[1] is None
    return records


def test_loaded_and_quarantined_files_are_audited_with_their_sha256(settings, tmp_path):
    scenario = generate_scenario(tmp_path / "scenario", start=dt.date(2026, 11, 9), days=2, payments_per_day=4,
                                 seed=3)
    landing = LandingZone(settings.landing_dir)
    landed = [landing.land_file("statements", p, "inbox") for p in sorted(scenario.statements_dir.iterdir())]
    landed.append(landing.land_stream("statements", io.BytesIO(b"\x00\x01 not a statement"), "garbage.xml", "inbox"))
    events = [landing.land_file("events", p, "inbox") for p in sorted(scenario.events_dir.iterdir())]
    with open_warehouse(settings) as wh:
        load_statement_files(wh, landing)
        load_event_files(wh, landing)
        load_statement_files(wh, landing)  # nothing new: nothing more audited
    records = _records(settings)
    loaded = {json.loads(r.details)["sha256"] for r in records if r.action == "file_landed"}
    quarantined = [r for r in records if r.action == "quarantine"]
    assert loaded == {f.sha256 for f in landed[:-1]} | {f.sha256 for f in events}
    assert [r.subject for r in quarantined] == [f"statements/{landed[-1].sha256}"]
    assert json.loads(quarantined[0].details)["reason"]
    assert all(r.actor == "recon" for r in records)


def test_offset_ranges_and_cycle_builds_are_audited(settings):
    settings.ensure_dirs()
    with open_warehouse(settings) as wh:
        assert record_range(wh, "payments.events", 0, 0, 120, "landing/x.parquet", run_id="run-1")
        assert not record_range(wh, "payments.events", 0, 0, 120, "landing/x.parquet", run_id="run-2")
    record_build(settings, "2026-11-09", "f" * 64, run_id="run-abc")
    records = _records(settings)
    ranges = [json.loads(r.details) for r in records if r.action == "offsets_landed"]
    assert ranges == [{"topic": "payments.events", "partition": 0, "start_offset": 0, "end_offset": 120,
                       "run_id": "run-1"}], "a range recorded twice is audited once"
    built = [r for r in records if r.action == "cycle_built"]
    assert [(r.subject, json.loads(r.details)["run_id"], json.loads(r.details)["fingerprint"]) for r in built] == \
        [("2026-11-09", "run-abc", "f" * 64)]
