"""`recon run` with events from a real Kafka-protocol broker: three cycles, three partitions,
redeliveries and poisoned messages — every event reaches the warehouse exactly once, poison
lands in quarantine with its offset and bytes, and the cycles reconcile to the truth."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

from recon_pipeline.events.snapshot_files import read_snapshot_file
from recon_pipeline.scenario.evaluate import evaluate
from recon_pipeline.scenario.generator import generate_scenario
from recon_pipeline.settings import load_settings
from recon_pipeline.warehouse.connection import open_warehouse
from tests.clock import past_monday

RECON = str(Path(sys.executable).with_name("recon"))


def _recon(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RECON, *args], env=env, capture_output=True, text=True, timeout=900)


def test_three_cycles_from_kafka_land_each_event_once_and_reconcile(tmp_path, tansu):
    topic = tansu.create_topic(partitions=3)
    scenario = generate_scenario(tmp_path / "scenario", start=past_monday(), days=3,
                                 payments_per_day=8, seed=21)
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "DAGSTER_"))}
    env.update(RECON_HOME=str(home), RECON_KAFKA_BOOTSTRAP=tansu.bootstrap, RECON_KAFKA_TOPIC=topic,
               RECON_STATEMENTS_DIR=str(home / "inbox" / "statements"))
    (home / "inbox" / "statements").mkdir(parents=True)

    poison = [b"{not json", b'{"event_id": "evt-poison-2", "event_type": "payment.sent"}']
    produced_valid_offsets = 0
    for day_index, cycle in enumerate(scenario.cycles):
        day = cycle.isoformat()
        messages = []
        for path in sorted(scenario.events_dir.glob(f"events_{day}.*")):
            for msg in read_snapshot_file(path, "scenario"):
                key = (msg.key or b"") or msg.value[:40]
                messages.append((zlib.crc32(key) % 3, key, msg.value))
        if day_index == 1:
            messages += [(0, b"poison-1", poison[0]), (2, b"poison-2", poison[1])]
            messages += messages[:3]  # a redelivery of three events already on the topic
        produced_valid_offsets += sum(1 for m in messages if m[2] not in poison)
        tansu.produce(topic, messages)
        for path in sorted(scenario.statements_dir.glob(f"*_{day}.*")):
            shutil.copy2(path, home / "inbox" / "statements" / path.name)
        proc = _recon(env, "run", "--through", day)
        assert proc.returncode == 0, proc.stderr[-2000:]

    settings = load_settings(environ=env)
    with open_warehouse(settings, read_only=True) as wh:
        raw_rows = wh.fetchone("select count(*) from raw.payment_events")[0]
        distinct_offsets = wh.fetchone("select count(distinct message_key) from raw.payment_events")[0]
        distinct_events = wh.fetchone("select count(distinct event_id) from raw.payment_events")[0]
        staged = wh.fetchone("select count(*) from staging.stg_payment_events")[0]
        quarantined = wh.fetch_dicts("select kafka_partition, message_offset, reason, raw_value "
                                     "from raw.quarantine_events order by kafka_partition")
        result = evaluate(wh, scenario.truth)
    assert raw_rows == distinct_offsets == produced_valid_offsets   # every offset once, none twice
    assert staged == distinct_events                              # redeliveries removed by event_id
    assert [bytes(q["raw_value"]) for q in quarantined] == poison
    assert all(q["message_offset"] is not None and q["reason"] for q in quarantined)
    assert result.precision == 1.0 and result.recall == 1.0 and not result.status_mismatches, result.describe()


def test_recon_run_with_the_broker_down_fails_in_one_line_and_advances_nothing(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "DAGSTER_"))}
    env.update(RECON_HOME=str(home), RECON_KAFKA_BOOTSTRAP=f"127.0.0.1:{closed_port}")
    proc = _recon(env, "run", "--through", past_monday().isoformat())
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("recon:") and len(proc.stderr.strip().splitlines()) == 1
    assert "unreachable" in proc.stderr
    assert not list((home / "landing").rglob("*.parquet"))
