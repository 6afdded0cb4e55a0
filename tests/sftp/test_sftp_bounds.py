"""Nothing an SFTP server sends is unbounded: a file over the size cap is not downloaded, a
server trickling bytes is cut off at the pull's deadline and leaves no .part file, and .part
files a killed pull left behind are cleaned up (issue #11 item 5), on the real test server."""
from __future__ import annotations

import os
import time

from recon_pipeline.sources.sftp.session import RetryPolicy
from tests.sftp.test_sftp_pickup import (  # noqa: F401 - landing is a fixture
    BIG,
    _stable_big_file,
    drop,
    landed_files,
    landing,
    leftover_temp_files,
    pull,
)


def test_a_file_over_the_size_cap_is_named_and_not_downloaded(sftp_server, landing):
    drop(sftp_server, "huge.xml", b"<" + b"x" * 9000)
    looks = pull(sftp_server, landing).next_looks
    connections = sftp_server.control.connections

    result = pull(sftp_server, landing, looks, max_file_bytes=4096)

    assert result.landed == [] and landed_files(landing) == []
    assert result.errors == ["huge.xml: 9001 bytes, over the 4096-byte cap for statement files; not downloaded"]
    assert sftp_server.control.connections - connections == 1          # listing only


def test_a_trickling_server_is_cut_off_at_the_deadline_and_leaves_no_part_file(sftp_server, landing):
    looks = _stable_big_file(sftp_server, landing)
    sftp_server.control.trickle_bytes, sftp_server.control.trickle_delay = 64, 0.05

    started = time.monotonic()
    result = pull(sftp_server, landing, looks, deadline=3.0, retry=RetryPolicy(attempts=3, base_delay=0.01))
    elapsed = time.monotonic() - started

    assert elapsed < 20                                                # not the hours a 512 KiB trickle takes
    assert result.landed == [] and landed_files(landing) == [] and leftover_temp_files(landing) == []
    assert len(result.errors) == 1 and "deadline of 3s passed" in result.errors[0]
    assert "sha256" not in result.next_looks["big_camt.xml"]           # taken by the next pull

    sftp_server.control.trickle_bytes = 0
    again = pull(sftp_server, landing, result.next_looks)
    assert [f.path.read_bytes() for f in again.landed] == [BIG]


def test_part_files_left_by_a_killed_pull_are_removed_by_the_next(sftp_server, landing):
    stale = landing.root / ".tmp" / "dead.part"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half a statement")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))

    pull(sftp_server, landing)

    assert not stale.exists()
