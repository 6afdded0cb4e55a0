"""The generator's participant services: every break once, with truth, bank side untouched."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from recon_pipeline.scenario.generator import generate_scenario

START = dt.date(2026, 11, 9)


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_participants_leave_the_bank_side_and_the_payments_unchanged(tmp_path):
    plain = generate_scenario(tmp_path / "plain", start=START, days=5, payments_per_day=10, seed=11)
    tracked = generate_scenario(tmp_path / "tracked", start=START, days=5, payments_per_day=10, seed=11,
                                participants=True)
    assert _digests(plain.statements_dir) == _digests(tracked.statements_dir)
    assert plain.truth["payments"] == tracked.truth["payments"]
    assert plain.truth["links"] == tracked.truth["links"]
    assert "internal_consistency" not in plain.truth and not plain.service_events_dirs


def test_every_break_occurs_once_with_the_cycle_it_must_be_raised_in(tmp_path):
    scenario = generate_scenario(tmp_path, start=START, days=5, payments_per_day=10, seed=11, participants=True)
    rows = scenario.truth["internal_consistency"]["participants"]
    behaviours = [r["behaviour"] for r in rows if r["behaviour"] != "on_time"]
    assert sorted(behaviours) == sorted(["never", "after_deadline", "late_within", "amount", "status", "in_flight"])
    by = {r["behaviour"]: r for r in rows}
    assert [e["type"] for e in by["after_deadline"]["exceptions"]] == ["participant_missing", "late_report"]
    missing = by["after_deadline"]["exceptions"][0]
    assert missing["raised_cycle"] < missing["resolved_cycle"]
    assert [e["type"] for e in by["late_within"]["exceptions"]] == ["late_report"]
    assert by["in_flight"]["exceptions"] == [] and all(r["exceptions"] == [] for r in rows if r["behaviour"] == "on_time")


def test_entry_events_carry_one_service_and_participants_write_their_own_folders(tmp_path):
    scenario = generate_scenario(tmp_path, start=START, days=3, payments_per_day=6, seed=5, participants=True)
    entry_services = {json.loads(line)["service"] for p in scenario.events_dir.glob("*.jsonl")
                      for line in p.read_text().splitlines() if line.startswith("{\"event_id")}
    assert entry_services <= {"payouts", "collections"} and entry_services
    assert {d.name for d in scenario.service_events_dirs} == {"ledger", "gateway"}
    for folder in scenario.service_events_dirs:
        services = {json.loads(line)["service"] for p in folder.glob("*.jsonl") for line in p.read_text().splitlines()}
        assert services == {folder.name}
    again = generate_scenario(tmp_path / "again", start=START, days=3, payments_per_day=6, seed=5, participants=True)
    assert [_digests(d) for d in scenario.service_events_dirs] == [_digests(d) for d in again.service_events_dirs]
