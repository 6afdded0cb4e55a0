"""SFTP pickup of bank statements, against a real SFTP server on loopback (see conftest.py)."""
from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import paramiko
import pytest
from dagster import DagsterInstance, build_sensor_context

from recon_pipeline.landing.zone import LandingZone
from recon_pipeline.settings import load_settings
from recon_pipeline.sources.pickup import pick_up
from recon_pipeline.sources.sftp.errors import AuthenticationFailed, HostKeyRejected, source_label
from recon_pipeline.sources.sftp.pull import PullResult, pull_statements
from recon_pipeline.sources.sftp.session import RetryPolicy
from recon_pipeline.warehouse.connection import open_warehouse
from recon_pipeline.warehouse.sftp_looks import read_looks, write_looks
from sensors.sftp_sensor import SENSOR_NAME, build_sftp_sensor

FAST = RetryPolicy(attempts=3, base_delay=0.01, factor=2.0, max_delay=0.05)

CAMT = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt/></Document>\n')
MT940 = b":20:STMT0001\r\n:25:DE89370400440532013000\r\n:28C:1/1\r\n:60F:C260301EUR1000,00\r\n-\r\n"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def drop(server: Any, name: str, data: bytes, mtime: int = 1_780_000_000) -> Path:
    """Put a file in the bank's outbox with a fixed mtime, as the bank would."""
    path = server.outbox / name
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def pull(server: Any, landing: LandingZone, looks: dict | None = None, **kwargs) -> PullResult:
    settings_overrides = {k: kwargs.pop(k) for k in ("marker_suffix", "archive_dir", "stable_seconds",
                                                     "known_hosts", "key_file") if k in kwargs}
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("timeout", 5.0)
    return pull_statements(server.settings(**settings_overrides), landing, looks or {}, **kwargs)


def landed_files(landing: LandingZone) -> list[Path]:
    folder = landing.root / "statements"
    return sorted(p for p in folder.iterdir() if not p.name.endswith(".meta.json")) if folder.is_dir() else []


def leftover_temp_files(landing: LandingZone) -> list[Path]:
    tmp = landing.root / ".tmp"
    return list(tmp.iterdir()) if tmp.is_dir() else []


@pytest.fixture
def landing(tmp_path: Path) -> LandingZone:
    return LandingZone(tmp_path / "landing")


# ----- stability and idempotence --------------------------------------------------------------
def test_new_stable_files_are_picked_up_once_after_two_looks(sftp_server, landing):
    drop(sftp_server, "camt053_20260301.xml", CAMT)
    drop(sftp_server, "mt940_20260301.sta", MT940)

    first = pull(sftp_server, landing)
    assert first.landed == [] and sorted(first.skipped_unstable) == ["camt053_20260301.xml", "mt940_20260301.sta"]
    json.dumps(first.next_looks)  # the looks are plain data (stored as rows of raw.sftp_looks)

    second = pull(sftp_server, landing, json.loads(json.dumps(first.next_looks)))
    by_name = {f.original_name: f for f in second.landed}
    assert set(by_name) == {"camt053_20260301.xml", "mt940_20260301.sta"}
    assert by_name["camt053_20260301.xml"].sha256 == sha256(CAMT)
    assert by_name["camt053_20260301.xml"].path.read_bytes() == CAMT
    assert by_name["mt940_20260301.sta"].path.read_bytes() == MT940
    assert all(f.is_new and f.source.startswith("sftp://") for f in second.landed)
    assert second.errors == [] and second.skipped_unstable == []

    third = pull(sftp_server, landing, second.next_looks)
    assert (third.landed, third.already_landed, third.skipped_unstable) == ([], [], [])
    assert len(landed_files(landing)) == 2
    # Without archive_dir the bank's files stay exactly where they were.
    assert sorted(p.name for p in sftp_server.outbox.iterdir()) == ["camt053_20260301.xml", "mt940_20260301.sta"]
    # No paramiko transport is left running after a pull.
    assert not [t for t in threading.enumerate() if isinstance(t, paramiko.Transport)]


def test_redelivered_bytes_under_another_name_change_nothing(sftp_server, landing):
    drop(sftp_server, "stmt.xml", CAMT)
    looks = pull(sftp_server, landing).next_looks
    first = pull(sftp_server, landing, looks)
    assert [f.original_name for f in first.landed] == ["stmt.xml"]
    before = {p: p.read_bytes() for p in (landing.root / "statements").iterdir()}

    drop(sftp_server, "stmt_RESEND_1.xml", CAMT)
    looks = pull(sftp_server, landing, first.next_looks).next_looks
    again = pull(sftp_server, landing, looks)

    assert again.landed == []
    assert again.already_landed == ["stmt_RESEND_1.xml"]
    assert [f.sha256 for f in again.redelivered] == [sha256(CAMT)]
    assert {p: p.read_bytes() for p in (landing.root / "statements").iterdir()} == before
    assert pull(sftp_server, landing, again.next_looks).already_landed == []  # and it is not re-read


def test_file_still_being_written_is_not_taken_until_its_size_stops_changing(sftp_server, landing):
    path = drop(sftp_server, "growing.xml", CAMT[:40])
    looks = pull(sftp_server, landing).next_looks

    with open(path, "ab") as fh:  # the bank is still writing
        fh.write(CAMT[40:])
    os.utime(path, (1_780_000_060, 1_780_000_060))
    still = pull(sftp_server, landing, looks)
    assert still.landed == [] and still.skipped_unstable == ["growing.xml"]
    assert landed_files(landing) == []

    done = pull(sftp_server, landing, still.next_looks)
    assert [f.sha256 for f in done.landed] == [sha256(CAMT)]


def test_in_progress_names_dotfiles_and_directories_are_never_taken(sftp_server, landing):
    drop(sftp_server, "upload.xml.part", CAMT)
    drop(sftp_server, "upload.xml.tmp", CAMT)
    drop(sftp_server, ".hidden.xml", CAMT)
    (sftp_server.outbox / "subdir.xml").mkdir()
    looks = pull(sftp_server, landing).next_looks
    result = pull(sftp_server, landing, looks)
    assert (result.landed, result.skipped_unstable, result.next_looks) == ([], [], {})


def test_stable_seconds_is_an_extra_minimum_age_measured_on_our_clock(sftp_server, landing):
    drop(sftp_server, "stmt.xml", CAMT)
    now = [1000.0]
    looks = pull(sftp_server, landing, stable_seconds=300, clock=lambda: now[0]).next_looks
    now[0] += 60
    young = pull(sftp_server, landing, looks, stable_seconds=300, clock=lambda: now[0])
    assert young.landed == [] and young.skipped_unstable == ["stmt.xml"]
    now[0] += 300
    old = pull(sftp_server, landing, young.next_looks, stable_seconds=300, clock=lambda: now[0])
    assert [f.original_name for f in old.landed] == ["stmt.xml"]


def test_one_call_can_take_both_looks_when_there_is_no_cursor(sftp_server, landing):
    drop(sftp_server, "stmt.xml", CAMT)
    waited: list[float] = []
    result = pull(sftp_server, landing, second_look_after=2.0, sleep=waited.append)
    assert [f.original_name for f in result.landed] == ["stmt.xml"]
    assert waited == [2.0]


# ----- marker files ---------------------------------------------------------------------------
def test_marker_mode_takes_only_files_whose_done_marker_exists(sftp_server, landing):
    drop(sftp_server, "ready.xml", CAMT)
    drop(sftp_server, "ready.xml.done", b"")
    drop(sftp_server, "waiting.sta", MT940)

    first = pull(sftp_server, landing, marker_suffix=".done")
    assert [f.original_name for f in first.landed] == ["ready.xml"]  # a marker needs no second look
    assert first.skipped_unstable == ["waiting.sta"]

    second = pull(sftp_server, landing, first.next_looks, marker_suffix=".done")
    assert second.landed == [] and second.skipped_unstable == ["waiting.sta"]  # stable, but no marker

    drop(sftp_server, "waiting.sta.done", b"")
    third = pull(sftp_server, landing, second.next_looks, marker_suffix=".done")
    assert [f.original_name for f in third.landed] == ["waiting.sta"]
    assert len(landed_files(landing)) == 2  # markers themselves are never landed


# ----- trust ----------------------------------------------------------------------------------
def test_unknown_host_key_is_refused_with_a_clear_message_and_lands_nothing(sftp_server, landing, ssh_keys,
                                                                            tmp_path):
    drop(sftp_server, "stmt.xml", CAMT)
    elsewhere = tmp_path / "known_hosts_other_host"
    elsewhere.write_text(sftp_server.known_hosts_line(ssh_keys.host_key, host="10.9.9.9"))

    with pytest.raises(HostKeyRejected) as caught:
        pull(sftp_server, landing, known_hosts=elsewhere)
    message = str(caught.value)
    assert "\n" not in message
    assert f"[127.0.0.1]:{sftp_server.port}" in message
    assert "not in known_hosts" in message and "refusing to connect" in message
    assert sftp_server.control.connections == 1  # refused once, not retried
    assert landed_files(landing) == []


def test_changed_host_key_is_refused_as_a_possible_man_in_the_middle(sftp_server, landing, ssh_keys, tmp_path):
    drop(sftp_server, "stmt.xml", CAMT)
    stale = tmp_path / "known_hosts_stale"
    stale.write_text(sftp_server.known_hosts_line(ssh_keys.other_host_key))

    with pytest.raises(HostKeyRejected) as caught:
        pull(sftp_server, landing, known_hosts=stale)
    message = str(caught.value)
    assert "\n" not in message
    assert (f"SFTP host key for [127.0.0.1]:{sftp_server.port} does not match known_hosts" in message
            and "man-in-the-middle" in message and "refusing to connect" in message)
    assert sftp_server.control.connections == 1
    assert landed_files(landing) == []


def test_a_key_the_server_does_not_accept_is_refused_without_retrying(sftp_server, landing, ssh_keys):
    drop(sftp_server, "stmt.xml", CAMT)
    with pytest.raises(AuthenticationFailed, match="refused authentication for user 'bank'"):
        pull(sftp_server, landing, key_file=ssh_keys.stranger_key_file)
    assert sftp_server.control.connections == 1
    assert landed_files(landing) == []


# ----- dropped connections and retries ---------------------------------------------------------
BIG = os.urandom(512 * 1024)  # several SFTP read requests, so the drop happens mid-file


def _stable_big_file(server: Any, landing: LandingZone) -> dict:
    drop(server, "big_camt.xml", BIG)
    return pull(server, landing).next_looks


def test_connection_dropped_mid_transfer_lands_nothing_and_the_next_pull_succeeds(sftp_server, landing):
    looks = _stable_big_file(sftp_server, landing)
    sftp_server.control.drop_reads = 1

    cut = pull(sftp_server, landing, looks, retry=RetryPolicy(attempts=1))
    assert sftp_server.control.drops == 1
    assert cut.landed == []
    assert len(cut.errors) == 1 and cut.errors[0].startswith("big_camt.xml: download of big_camt.xml")
    assert "failed after 1 attempt" in cut.errors[0]
    assert landed_files(landing) == [] and leftover_temp_files(landing) == []
    assert "sha256" not in cut.next_looks["big_camt.xml"]  # still to be taken

    retried = pull(sftp_server, landing, cut.next_looks)
    assert [f.sha256 for f in retried.landed] == [sha256(BIG)]
    assert retried.landed[0].path.read_bytes() == BIG


def test_transient_drops_are_retried_with_exponential_backoff_within_one_pull(sftp_server, landing):
    looks = _stable_big_file(sftp_server, landing)
    sftp_server.control.drop_reads = 2
    connections_before = sftp_server.control.connections
    waits: list[float] = []

    result = pull(sftp_server, landing, looks, retry=RetryPolicy(attempts=3, base_delay=0.01), sleep=waits.append)

    assert [f.sha256 for f in result.landed] == [sha256(BIG)] and result.errors == []
    assert sftp_server.control.drops == 2
    assert waits == [0.01, 0.02]
    assert sftp_server.control.connections - connections_before == 3  # one fresh connection per attempt


def test_exhausted_retries_report_the_error_and_land_nothing(sftp_server, landing):
    looks = _stable_big_file(sftp_server, landing)
    sftp_server.control.drop_reads = 10
    waits: list[float] = []

    result = pull(sftp_server, landing, looks, retry=RetryPolicy(attempts=3, base_delay=0.01), sleep=waits.append)

    assert sftp_server.control.drops == 3
    assert waits == [0.01, 0.02]
    assert result.landed == [] and landed_files(landing) == [] and leftover_temp_files(landing) == []
    assert len(result.errors) == 1 and "failed after 3 attempts" in result.errors[0]
    assert (sftp_server.outbox / "big_camt.xml").read_bytes() == BIG


# ----- archiving ------------------------------------------------------------------------------
def test_archive_moves_the_remote_file_only_after_it_has_landed_and_never_deletes_it(sftp_server, landing):
    looks = _stable_big_file(sftp_server, landing)
    archive = sftp_server.root / "archive"

    sftp_server.control.drop_reads = 1
    failed = pull(sftp_server, landing, looks, archive_dir="/archive", retry=RetryPolicy(attempts=1))
    assert failed.landed == [] and failed.archived == []
    assert (sftp_server.outbox / "big_camt.xml").read_bytes() == BIG  # not landed, so not moved
    assert not archive.exists()

    done = pull(sftp_server, landing, failed.next_looks, archive_dir="/archive")
    assert [f.sha256 for f in done.landed] == [sha256(BIG)] and done.archived == ["big_camt.xml"]
    assert done.landed[0].path.read_bytes() == BIG
    assert not (sftp_server.outbox / "big_camt.xml").exists()
    assert (archive / "big_camt.xml").read_bytes() == BIG
    assert "big_camt.xml" not in done.next_looks


def test_a_failed_archive_move_is_retried_next_pull_without_downloading_again(sftp_server, landing):
    drop(sftp_server, "stmt.xml", CAMT)
    blocker = sftp_server.root / "archive"
    blocker.write_bytes(b"a file where the archive folder should be")
    looks = pull(sftp_server, landing, archive_dir="/archive").next_looks

    stuck = pull(sftp_server, landing, looks, archive_dir="/archive")
    assert [f.original_name for f in stuck.landed] == ["stmt.xml"] and stuck.archived == []
    assert len(stuck.errors) == 1 and stuck.errors[0].startswith("stmt.xml: ")
    assert (sftp_server.outbox / "stmt.xml").read_bytes() == CAMT  # still there, never deleted

    blocker.unlink()
    retried = pull(sftp_server, landing, stuck.next_looks, archive_dir="/archive")
    assert (retried.landed, retried.already_landed, retried.errors) == ([], [], [])
    assert retried.archived == ["stmt.xml"]
    assert (sftp_server.root / "archive" / "stmt.xml").read_bytes() == CAMT
    assert not (sftp_server.outbox / "stmt.xml").exists()


def test_archiving_a_redelivery_keeps_both_copies_under_distinct_names(sftp_server, landing):
    for _ in range(2):  # the bank sends the same file, same name, twice
        drop(sftp_server, "stmt.xml", CAMT)
        drop(sftp_server, "stmt.xml.done", b"")
        result = pull(sftp_server, landing, marker_suffix=".done", archive_dir="archive")
        assert result.archived == ["stmt.xml"] and result.errors == []

    archive = sftp_server.outbox / "archive"  # a relative archive_dir lives under remote_dir
    names = sorted(p.name for p in archive.iterdir())
    assert names == sorted(["stmt.xml", "stmt.xml.done", f"{sha256(CAMT)[:16]}-stmt.xml",
                            f"{sha256(CAMT)[:16]}-stmt.xml.done"])
    assert sorted(p.name for p in sftp_server.outbox.iterdir()) == ["archive"]
    assert len(landed_files(landing)) == 1


# ----- the sensor -----------------------------------------------------------------------------
def _sensor_env(monkeypatch: pytest.MonkeyPatch, server: Any, home: Path) -> None:
    monkeypatch.chdir(home)  # no stray ./recon.yaml
    monkeypatch.delenv("RECON_CONFIG", raising=False)
    monkeypatch.setenv("RECON_HOME", str(home))
    monkeypatch.setenv("RECON_SFTP_URL", server.url)
    monkeypatch.setenv("RECON_SFTP_KEY_FILE", str(server.client_key_file))
    monkeypatch.setenv("RECON_SFTP_KNOWN_HOSTS", str(server.known_hosts))


def test_sensor_requests_one_run_per_landed_file_keyed_by_sha256_and_nothing_on_the_next_tick(
        sftp_server, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    _sensor_env(monkeypatch, sftp_server, home)
    drop(sftp_server, "camt053_20260301.xml", CAMT)
    drop(sftp_server, "mt940_20260301.sta", MT940)
    sensor_def = build_sftp_sensor()
    assert sensor_def.name == SENSOR_NAME

    with DagsterInstance.ephemeral() as instance:
        first = sensor_def.evaluate_tick(build_sensor_context(cursor=None, instance=instance))
        assert first.run_requests == [] and "not yet complete" in first.skip_message

        second = sensor_def.evaluate_tick(build_sensor_context(cursor=first.cursor, instance=instance))
        assert sorted(r.run_key for r in second.run_requests) == sorted([sha256(CAMT), sha256(MT940)])
        for request in second.run_requests:
            assert request.job_name == "ingest_job"
            assert request.tags["recon/source"] == "sftp"
            assert request.tags["recon/sha256"] == request.run_key
        assert {r.tags["recon/file"] for r in second.run_requests} == {"camt053_20260301.xml", "mt940_20260301.sta"}
        # The looks live in the warehouse (the one place `recon run` reads too), not the cursor.
        assert second.cursor is None
        with open_warehouse(load_settings()) as wh:
            looks = read_looks(wh, source_label(load_settings().sftp))
        assert set(looks) == {"camt053_20260301.xml", "mt940_20260301.sta"}
        assert all(look.get("sha256") for look in looks.values())

        third = sensor_def.evaluate_tick(build_sensor_context(cursor=second.cursor, instance=instance))
        assert third.run_requests == []

    landing = LandingZone(load_settings().landing_dir)
    assert {f.sha256 for f in landing.files("statements")} == {sha256(CAMT), sha256(MT940)}


def test_sensor_skips_with_the_reason_and_keeps_its_looks_when_the_host_key_is_wrong(
        sftp_server, ssh_keys, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    _sensor_env(monkeypatch, sftp_server, home)
    stale = tmp_path / "known_hosts_stale"
    stale.write_text(sftp_server.known_hosts_line(ssh_keys.other_host_key))
    monkeypatch.setenv("RECON_SFTP_KNOWN_HOSTS", str(stale))
    settings = load_settings()
    looks = {"stmt.xml": {"size": 1, "mtime": 2, "since": 3.0}}
    with open_warehouse(settings) as wh:
        write_looks(wh, source_label(settings.sftp), looks)

    with DagsterInstance.ephemeral() as instance:
        tick = build_sftp_sensor().evaluate_tick(build_sensor_context(instance=instance))
    assert tick.run_requests == []
    assert "does not match known_hosts" in tick.skip_message and "\n" not in tick.skip_message
    with open_warehouse(settings) as wh:
        assert read_looks(wh, source_label(settings.sftp)) == looks


def test_sensor_skips_when_no_sftp_source_is_configured(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("RECON_CONFIG", "RECON_SFTP_URL", "RECON_SFTP_KEY_FILE", "RECON_SFTP_KNOWN_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECON_HOME", str(tmp_path / "home"))
    with DagsterInstance.ephemeral() as instance:
        tick = build_sftp_sensor().evaluate_tick(build_sensor_context(instance=instance))
    assert tick.skip_message == "no SFTP source configured (set RECON_SFTP_URL)"


def test_recon_run_and_the_sensor_share_one_set_of_looks_so_a_file_is_downloaded_once(
        sftp_server, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    _sensor_env(monkeypatch, sftp_server, home)
    drop(sftp_server, "camt053_20260301.xml", CAMT)
    sensor_def = build_sftp_sensor()

    with DagsterInstance.ephemeral() as instance:
        first = sensor_def.evaluate_tick(build_sensor_context(instance=instance))
        assert first.run_requests == [] and "not yet complete" in first.skip_message

        # `recon run` picks up next: the sensor's look is its first look.
        report = pick_up(load_settings())
        assert report.statement_files_new == 1 and report.notes == []

        # The sensor's next tick sees the file as taken: a download would have found its bytes
        # landed already and asked for a run again (redelivery); it downloads and asks nothing.
        second = sensor_def.evaluate_tick(build_sensor_context(instance=instance))
        assert second.run_requests == [] and second.skip_message == "no new statement files"
