"""Kafka snapshots against a real broker: every offset lands once, whatever fails in between."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from dagster import DagsterInstance, build_sensor_context

from recon_pipeline.events.kafka.client import KafkaSnapshotError, KafkaUnavailable
from recon_pipeline.events.kafka.land import iter_landed_messages, landed_range_files
from recon_pipeline.events.kafka.plan import OffsetRange, SnapshotPlan, plan_snapshot, ranges_from_json
from recon_pipeline.events.kafka.read import read_range
from recon_pipeline.events.model import EventRejected, parse_event
from recon_pipeline.settings import KafkaSettings, load_settings
from recon_pipeline.sources.kafka import land_planned_ranges, snapshot_topics
from recon_pipeline.warehouse.connection import open_warehouse
from recon_pipeline.warehouse.kafka_ledger import (
    LedgerGap,
    ensure_ledger,
    ledger_rows,
    record_range,
    recorded_end,
)
from sensors.kafka_sensor import NOT_CONFIGURED, RANGES_TAG, build_kafka_sensor

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOT_JSON = b"this is {not json"
MISSING_FIELDS = json.dumps({"event_id": "evt-bad", "event_type": "payment.sent"}).encode()


def ledger(settings) -> list[dict]:
    if not settings.duckdb_path.exists():
        return []
    with open_warehouse(settings) as wh:
        return ledger_rows(wh)


def landed(settings) -> list:
    return list(iter_landed_messages(settings.landing_dir))


def committed(bootstrap: str, topic: str, group: str = "recon") -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        parts = consumer.committed([TopicPartition(topic, p) for p in range(3)], timeout=10)
        return {tp.partition: tp.offset for tp in parts}
    finally:
        consumer.close()


def test_three_snapshot_cycles_land_every_offset_exactly_once(tansu, topic, recon_env, make_event):
    settings = load_settings()
    produced: dict[tuple[int, int], bytes] = {}        # (partition, offset) -> value
    next_offset = Counter()

    def produce(batch):
        tansu.produce(topic, batch)
        for partition, _key, value in batch:
            produced[(partition, next_offset[partition])] = value
            next_offset[partition] += 1

    cycles = [
        # cycle 1: six events over three partitions and a message that is not JSON
        [(n % 3, f"pay-{n:05d}".encode(), make_event(n)) for n in range(1, 7)] + [(1, b"junk", NOT_JSON)],
        # cycle 2: new events, a redelivery of event 1 and an event missing required fields
        [(n % 3, f"pay-{n:05d}".encode(), make_event(n)) for n in range(7, 11)]
        + [(1, b"pay-00001", make_event(1)), (2, None, MISSING_FIELDS)],
        # cycle 3: more events and a redelivery of event 8 on another partition
        [(n % 3, f"pay-{n:05d}".encode(), make_event(n)) for n in range(11, 14)] + [(0, b"pay-00008", make_event(8))],
    ]
    for number, batch in enumerate(cycles, start=1):
        produce(batch)
        result = snapshot_topics(settings, run_id=f"cycle-{number}")
        assert result.messages == len(batch), f"cycle {number}"
        assert all(r.recorded for r in result.landed)

    # A fourth snapshot with nothing new lands nothing and leaves the ledger alone.
    rows_before = ledger(settings)
    assert snapshot_topics(settings).landed == ()
    assert ledger(settings) == rows_before

    # Every offset landed exactly once, with the bytes and keys produced.
    messages = landed(settings)
    coordinates = [(m.partition, m.offset) for m in messages]
    assert len(coordinates) == len(set(coordinates))
    assert {c: m.value for c, m in zip(coordinates, messages)} == produced
    assert all(m.origin == "kafka" and m.topic == topic and m.timestamp_ms for m in messages)

    # The ledger holds contiguous ranges per partition, from 0 to the partition's end.
    for partition in range(3):
        rows = [r for r in rows_before if r["partition"] == partition]
        assert rows[0]["start_offset"] == 0
        assert all(a["end_offset"] == b["start_offset"] for a, b in zip(rows, rows[1:]))
        assert rows[-1]["end_offset"] == next_offset[partition]
        assert [r["run_id"] for r in rows] == sorted(r["run_id"] for r in rows)
        assert Path(rows[-1]["landed_path"]).is_file()

    # Group offsets were committed to the ledger's ends (lag monitoring).
    assert committed(tansu.bootstrap, topic) == {p: next_offset[p] for p in range(3)}

    # Validation: the valid events (redeliveries included), and the poison with its bytes and place.
    events, rejected = [], []
    for m in messages:
        try:
            events.append(parse_event(m.value))
        except EventRejected as exc:
            rejected.append((m, str(exc)))
    assert Counter(e.event_id for e in events) == Counter(
        {**{f"evt-{n:05d}": 1 for n in range(1, 14)}, "evt-00001": 2, "evt-00008": 2})
    assert len(rejected) == 2
    by_value = {m.value: (m, reason) for m, reason in rejected}
    junk, junk_reason = by_value[NOT_JSON]
    assert (junk.partition, junk.offset, junk.key) == (1, 2, b"junk")
    assert junk_reason.startswith("value is not JSON")
    missing, missing_reason = by_value[MISSING_FIELDS]
    assert missing.partition == 2 and missing.key is None
    assert "missing required field(s)" in missing_reason and "payment_id" in missing_reason


CHILD = textwrap.dedent("""
    import os
    from recon_pipeline.events.kafka.land import land_range
    from recon_pipeline.events.kafka.plan import plan_snapshot
    from recon_pipeline.warehouse.kafka_ledger import ensure_ledger, recorded_ends
    from recon_pipeline.settings import KafkaSettings, load_settings
    from recon_pipeline.warehouse.connection import open_warehouse

    settings = load_settings()
    with open_warehouse(settings) as wh:
        ensure_ledger(wh)
        plan = plan_snapshot(settings.kafka, recorded_ends(wh))
    for rng in plan.ranges:
        land_range(settings, rng)          # durable on disk ...
    os._exit(17)                           # ... and the process dies before recording the ranges
""")


def test_crash_between_landing_and_recording_loses_and_duplicates_nothing(
        tansu, topic, recon_env, make_event, tmp_path, monkeypatch):
    tansu.produce(topic, [(n % 3, None, make_event(n)) for n in range(9)])
    settings = load_settings()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=os.getcwd(),
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == 17, child.stderr
    orphans = {(t, p, s, e) for t, p, s, e, _ in landed_range_files(settings.landing_dir)}
    assert orphans == {(topic, p, 0, 3) for p in range(3)}
    assert ledger(settings) == []

    # More messages arrive before the next run: partition 0's range now extends past the orphan.
    tansu.produce(topic, [(0, None, make_event(100)), (0, None, make_event(101))])
    result = snapshot_topics(settings)
    assert sorted(r.range.key for r in result.landed) == sorted(
        [f"kafka:{topic}:0:0-5", f"kafka:{topic}:1:0-3", f"kafka:{topic}:2:0-3"])
    assert {r.range.partition for r in result.landed if r.reused_file} == {1, 2}
    assert [(r["partition"], r["start_offset"], r["end_offset"]) for r in ledger(settings)] == [
        (0, 0, 5), (1, 0, 3), (2, 0, 3)]
    files = {(p, s, e) for _, p, s, e, _ in landed_range_files(settings.landing_dir)}
    assert files == {(0, 0, 3), (0, 0, 5), (1, 0, 3), (2, 0, 3)}      # the orphan is kept, and shadowed

    after_crash = [(m.topic, m.partition, m.offset, m.key, m.value) for m in landed(settings)]
    assert len(after_crash) == len(set(after_crash)) == 11

    # Exactly what an uninterrupted run lands.
    monkeypatch.setenv("RECON_HOME", str(tmp_path / "uninterrupted"))
    clean = load_settings()
    snapshot_topics(clean)
    assert after_crash == [(m.topic, m.partition, m.offset, m.key, m.value) for m in landed(clean)]


def closed_port() -> int:
    """A loopback port nobody listens on (bound once to pick it, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(120)    # a hang fails here; how fast it gives up is for `make bench`, not a test
def test_broker_down_raises_one_line_and_advances_nothing(tansu, topic, recon_env, make_event, monkeypatch):
    tansu.produce(topic, [(n % 3, None, make_event(n)) for n in range(4)])
    port = closed_port()
    monkeypatch.setenv("RECON_KAFKA_BOOTSTRAP", f"127.0.0.1:{port}")
    down = load_settings()
    with pytest.raises(KafkaUnavailable) as info:
        snapshot_topics(down)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"Kafka broker at 127.0.0.1:{port} is unreachable: ")
    assert "refused" in message.lower()
    assert ledger(down) == []
    assert list(landed_range_files(down.landing_dir)) == []

    # The broker is reachable again: the next run lands everything from the start.
    monkeypatch.setenv("RECON_KAFKA_BOOTSTRAP", tansu.bootstrap)
    up = load_settings()
    assert snapshot_topics(up).messages == 4
    assert sum(r["end_offset"] - r["start_offset"] for r in ledger(up)) == 4


def test_read_range_reads_exactly_the_planned_offsets(tansu, topic, recon_env, make_event):
    settings = load_settings()
    tansu.produce(topic, [(0, None, make_event(n)) for n in range(10)])
    got = list(read_range(settings.kafka, topic, 0, 3, 7))
    assert [m.offset for m in got] == [3, 4, 5, 6]
    assert [parse_event(m.value).event_id for m in got] == [f"evt-{n:05d}" for n in range(3, 7)]
    assert list(read_range(settings.kafka, topic, 0, 5, 5)) == []
    with pytest.raises(KafkaSnapshotError, match="before the planned end 12"):
        list(read_range(settings.kafka, topic, 0, 8, 12))


def test_plan_is_plain_data_with_a_deterministic_id(tansu, topic, recon_env, make_event):
    settings = load_settings()
    tansu.produce(topic, [(0, None, make_event(1)), (2, None, make_event(2)), (2, None, make_event(3))])
    plan = plan_snapshot(settings.kafka, None)
    assert plan.id == f"kafka:{topic}:0:0-1|kafka:{topic}:2:0-2"
    assert plan.ends == {f"{topic}:0": 1, f"{topic}:1": 0, f"{topic}:2": 2}
    assert SnapshotPlan.from_json(plan.to_json()) == plan
    assert plan_snapshot(settings.kafka, {(topic, 0): 1, (topic, 2): 2}).is_empty


def test_offset_ledger_records_idempotently_and_refuses_gaps(tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RECON_KAFKA_BOOTSTRAP", raising=False)
    settings = load_settings()
    with open_warehouse(settings) as wh:
        ensure_ledger(wh)
        ensure_ledger(wh)
        assert recorded_end(wh, "t", 0) == 0
        assert record_range(wh, "t", 0, 0, 10, "a.parquet", run_id="r1") is True
        assert record_range(wh, "t", 0, 0, 10, "a.parquet", run_id="r2") is False
        assert record_range(wh, "t", 0, 0, 8, "b.parquet") is False            # already covered
        assert record_range(wh, "t", 0, 10, 12, "c.parquet") is True
        with pytest.raises(LedgerGap, match="offsets 12-15 were never landed"):
            record_range(wh, "t", 0, 15, 20, "d.parquet")
        assert recorded_end(wh, "t", 0) == 12
        assert [(r["start_offset"], r["end_offset"]) for r in ledger_rows(wh)] == [(0, 10), (10, 12)]


def test_land_planned_ranges_heals_a_gap_left_by_a_failed_run(tansu, topic, recon_env, make_event):
    settings = load_settings()
    tansu.produce(topic, [(1, None, make_event(n)) for n in range(6)])
    # A sensor planned 0-4 and later 4-6, but the run for 0-4 never happened.
    result = land_planned_ranges(settings, [OffsetRange(topic, 1, 4, 6)])
    assert [r.range.key for r in result.landed] == [f"kafka:{topic}:1:0-6"]
    assert [m.offset for m in landed(settings)] == list(range(6))
    # The overtaken request for 0-4 is now a no-op.
    again = land_planned_ranges(settings, [{"topic": topic, "partition": 1, "start": 0, "end": 4}])
    assert again.landed == () and [r.key for r in again.skipped] == [f"kafka:{topic}:1:0-4"]


def test_sensor_requests_a_run_for_new_ranges_and_skips_when_nothing_is_new(tansu, topic, recon_env, make_event):
    tansu.produce(topic, [(n % 3, None, make_event(n)) for n in range(5)])
    sensor = build_kafka_sensor()
    assert sensor.name == "kafka_events_sensor"
    settings = load_settings()
    with DagsterInstance.ephemeral() as instance:
        first = sensor.evaluate_tick(build_sensor_context(cursor=None, instance=instance))
        assert len(first.run_requests) == 1
        request = first.run_requests[0]
        ranges = ranges_from_json(request.tags[RANGES_TAG])
        assert ranges == [OffsetRange(topic, 0, 0, 2), OffsetRange(topic, 1, 0, 2), OffsetRange(topic, 2, 0, 1)]
        assert request.run_key == "|".join(r.key for r in ranges)
        assert request.job_name == "ingest_job" and request.tags["recon/source"] == "kafka"

        # Before its run has landed the plan, a tick plans the same ranges under the same run
        # key (which Dagster drops): where landing stopped is the ledger's, not a cursor's.
        again = sensor.evaluate_tick(build_sensor_context(cursor=None, instance=instance))
        assert [r.run_key for r in again.run_requests] == [request.run_key]

        # The run lands exactly the requested ranges; then nothing is new.
        land_planned_ranges(settings, ranges_from_json(request.tags[RANGES_TAG]), run_id=request.run_key)
        second = sensor.evaluate_tick(build_sensor_context(cursor=None, instance=instance))
        assert not second.run_requests and second.skip_message == "no new Kafka messages"

        # New messages: the next request covers only what is new since the ledger's end.
        tansu.produce(topic, [(2, None, make_event(50))])
        third = sensor.evaluate_tick(build_sensor_context(cursor=None, instance=instance))
        assert [r.key for r in ranges_from_json(third.run_requests[0].tags[RANGES_TAG])] == [
            f"kafka:{topic}:2:1-2"]

    land_planned_ranges(settings, ranges_from_json(third.run_requests[0].tags[RANGES_TAG]),
                        run_id=third.run_requests[0].run_key)
    assert len(landed(settings)) == 6
    assert snapshot_topics(settings).landed == ()


def test_sensor_skips_when_kafka_is_not_configured(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECON_HOME", str(tmp_path / "home"))
    for var in ("RECON_KAFKA_BOOTSTRAP", "RECON_KAFKA_TOPIC", "RECON_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    with DagsterInstance.ephemeral() as instance:
        data = build_kafka_sensor().evaluate_tick(build_sensor_context(cursor=None, instance=instance))
    assert not data.run_requests and data.skip_message == NOT_CONFIGURED


def test_sensor_tick_with_the_broker_down_skips_with_the_reason(tansu, topic, recon_env, monkeypatch):
    monkeypatch.setenv("RECON_KAFKA_BOOTSTRAP", f"127.0.0.1:{closed_port()}")
    with DagsterInstance.ephemeral() as instance:
        data = build_kafka_sensor().evaluate_tick(build_sensor_context(cursor=None, instance=instance))
    assert not data.run_requests
    assert data.skip_message.startswith("Kafka broker at 127.0.0.1:") and "\n" not in data.skip_message
    assert data.cursor is None


@pytest.mark.timeout(120)    # instead of hanging: a hang fails on the timeout, no wall-clock assert
def test_a_recorded_offset_beyond_the_partition_end_fails_with_a_reason_instead_of_hanging(tansu, topic):
    # tansu answers a fetch beyond the end with nothing at all (no EOF, no OFFSET_OUT_OF_RANGE),
    # which is what a broker that lost its data (memory-only, restarted) looks like.
    ks = KafkaSettings(tansu.bootstrap, (topic,), poll_timeout_seconds=1.0)
    with pytest.raises(KafkaSnapshotError, match="beyond the partition's end"):
        plan_snapshot(ks, {(topic, 0): 50})


def test_a_load_reads_only_what_is_new_past_each_partitions_loaded_offset(
        tansu, topic, recon_env, make_event):
    """Loading Kafka ranges costs what is new: every event lands once, and once a partition's
    offsets are loaded its old range files are not read again (a damaged old file, which a
    re-read would trip over, proves it)."""
    from recon_pipeline.landing.zone import LandingZone
    from recon_pipeline.warehouse.load_events import kafka_loaded_up_to, load_event_files

    settings = load_settings()
    tansu.produce(topic, [(n % 3, None, make_event(n)) for n in range(9)])
    snapshot_topics(settings)
    with open_warehouse(settings) as wh:
        first = load_event_files(wh, LandingZone(settings.landing_dir))
        assert first.events_loaded == 9
        assert kafka_loaded_up_to(wh) == {(topic, p): 2 for p in range(3)}
    for _t, _p, _s, _e, path in landed_range_files(settings.landing_dir):
        path.write_bytes(b"not parquet any more")      # read again, this would fail the load

    tansu.produce(topic, [(0, None, make_event(100)), (1, None, make_event(101))])
    snapshot_topics(settings)
    with open_warehouse(settings) as wh:
        second = load_event_files(wh, LandingZone(settings.landing_dir))
        again = load_event_files(wh, LandingZone(settings.landing_dir))
        rows = wh.fetchall("select kafka_partition, message_offset from raw.payment_events order by 1, 2")
    assert (second.messages_seen, second.events_loaded) == (2, 2)
    assert (again.messages_seen, again.events_loaded) == (0, 0)
    assert rows == sorted([(p, o) for p in range(3) for o in range(3)] + [(0, 3), (1, 3)])
