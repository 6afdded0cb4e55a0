"""Whoever can write the inbox cannot make recon read anything else: symbolic links, FIFOs
and files outside the inbox are refused with a reason and never land (issue #11 item 9)."""
from __future__ import annotations

import os

from recon_pipeline.sources.local_inbox import scan_inbox
from recon_pipeline.warehouse.load_statements import load_statement_files
from tests.hostile.conftest import camt053


def test_links_fifos_and_linked_folders_are_refused_and_only_real_files_land(tmp_path, landing, wh):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    secret = tmp_path / "keys" / "id_ed25519"
    secret.parent.mkdir()
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n")
    (inbox / "statement.xml").write_bytes(camt053([("5.00", "CRDT", "R1", None)]))
    (inbox / "key_statement.sta").symlink_to(secret)
    (inbox / "keys").symlink_to(secret.parent, target_is_directory=True)
    os.mkfifo(inbox / "pipe.xml")

    scan = scan_inbox(inbox, landing, "statements")

    assert [f.original_name for f in scan.landed] == ["statement.xml"]
    reasons = dict(scan.refused)
    assert set(reasons) == {"key_statement.sta", "keys", "pipe.xml"}
    assert "symbolic link" in reasons["key_statement.sta"] and str(secret) in reasons["key_statement.sta"]
    assert "symbolic link to a folder" in reasons["keys"]
    assert "not a regular file" in reasons["pipe.xml"]
    load_statement_files(wh, landing)
    stored = b"".join(bytes(r[0]) for r in wh.fetchall("select raw_bytes from raw.quarantine_statement_files"))
    assert b"PRIVATE KEY" not in stored
    assert wh.fetchone("select count(*) from raw.statement_files")[0] == 1
