"""The audit trail is tamper-evident: `recon audit verify` passes on an untouched trail and names
the first record that was edited, removed or reordered (CONTRACT.md §3 `ops.audit_log`, §4)."""
from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from recon_pipeline.audit import append_audit, drain_spool, read_audit_log, spool_audit, verify_chain
from recon_pipeline.settings import load_settings
from recon_pipeline.warehouse.connection import open_warehouse

RECON = str(Path(sys.executable).with_name("recon"))


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_HOME", str(tmp_path / "home"))
    for key in ("RECON_WAREHOUSE_URL", "RECON_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    settings = load_settings()
    with open_warehouse(settings) as wh:
        for i in range(5):
            append_audit(wh, "alice" if i % 2 else "recon", "file.landed", f"sha-{i}", {"bytes": i * 100})
    return settings


def verify(settings) -> subprocess.CompletedProcess:
    env = {k: v for k, v in __import__("os").environ.items()}
    env["RECON_HOME"] = str(settings.home)
    return subprocess.run([RECON, "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)


def test_untouched_trail_verifies_with_its_record_count(home):
    proc = verify(home)
    assert proc.returncode == 0, proc.stderr
    assert "5 record(s)" in proc.stdout


def test_an_edited_record_is_named(home):
    with open_warehouse(home) as wh:
        wh.execute("update ops.audit_log set actor = 'mallory' where seq = 3")
    proc = verify(home)
    assert proc.returncode == 1
    assert "record 3" in proc.stderr and "edited" in proc.stderr


def test_a_deleted_record_is_named(home):
    with open_warehouse(home) as wh:
        wh.execute("delete from ops.audit_log where seq = 2")
    proc = verify(home)
    assert proc.returncode == 1
    assert "record 3" in proc.stderr


def test_reordered_records_are_named(home):
    with open_warehouse(home) as wh:
        wh.execute("update ops.audit_log set seq = 100 where seq = 2")
        wh.execute("update ops.audit_log set seq = 2 where seq = 4")
        wh.execute("update ops.audit_log set seq = 4 where seq = 100")
    proc = verify(home)
    assert proc.returncode == 1
    assert "record 2" in proc.stderr


def test_an_edited_record_with_a_recomputed_hash_still_breaks_the_next_link(home):
    from recon_pipeline.audit.chain import record_hash

    with open_warehouse(home) as wh:
        rec = [r for r in read_audit_log(wh) if r.seq == 2][0]
        forged = record_hash(rec.prev_hash, rec.seq, rec.recorded_at, "mallory", rec.action, rec.subject, rec.details)
        wh.execute("update ops.audit_log set actor = 'mallory', record_hash = ? where seq = 2", (forged,))
        count, broken = verify_chain(read_audit_log(wh))
    assert broken is not None and broken.seq == 3


def test_spooled_records_are_appended_once_in_order(home):
    first = spool_audit(home.home, "bob", "portal.search", "q=INV-1")
    spool_audit(home.home, "bob", "portal.download", "2026-11-10")
    with open_warehouse(home) as wh:
        assert drain_spool(wh, home.home) == 2
        assert drain_spool(wh, home.home) == 0
        records = list(read_audit_log(wh))
    assert [r.action for r in records[-2:]] == ["portal.search", "portal.download"]
    assert not first.exists()
    assert verify_chain(records)[1] is None


def test_two_writers_on_postgres_never_fork_the_chain(postgres_url):
    from recon_pipeline.settings import load_settings

    settings = load_settings(environ={"RECON_WAREHOUSE_URL": postgres_url, "RECON_HOME": "/tmp/unused"})
    errors = []

    def writer(name):
        try:
            with open_warehouse(settings) as wh:
                for i in range(20):
                    append_audit(wh, name, "test.append", f"{name}-{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("w1", "w2", "w3")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with open_warehouse(settings) as wh:
        count, broken = verify_chain(read_audit_log(wh))
    assert count == 60 and broken is None
