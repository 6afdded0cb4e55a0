"""Small shared files (portal pointer, spool, mirrored decisions, identity marker) are written
whole, and stay readable by the other processes, possibly other users, that read them."""
from __future__ import annotations

import os
import stat

from recon_pipeline.atomic_files import write_text_atomically


def test_a_new_file_gets_the_mode_a_plain_write_gives_and_a_rewrite_keeps_its_mode(tmp_path):
    old_umask = os.umask(0o022)
    try:
        pointer = tmp_path / "portal" / "CURRENT"
        write_text_atomically(pointer, "snapshot-a.duckdb")
        assert pointer.read_text() == "snapshot-a.duckdb"
        assert stat.S_IMODE(pointer.stat().st_mode) == 0o644  # not mkstemp's 0600: the portal may be another user
        pointer.chmod(0o640)
        write_text_atomically(pointer, "snapshot-b.duckdb")
        assert pointer.read_text() == "snapshot-b.duckdb"
        assert stat.S_IMODE(pointer.stat().st_mode) == 0o640
    finally:
        os.umask(old_umask)
    assert sorted(p.name for p in pointer.parent.iterdir()) == ["CURRENT"]  # no temporary left behind


def test_a_temporary_file_elsewhere_never_shows_in_the_folder_readers_list(tmp_path):
    folder, tmp_dir = tmp_path / "decisions", tmp_path / "tmp"
    write_text_atomically(folder / "d1.json", "{}", tmp_dir)
    assert [p.name for p in folder.iterdir()] == ["d1.json"] and list(tmp_dir.iterdir()) == []
