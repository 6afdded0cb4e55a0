"""Event snapshot files (JSON Lines, plain or gzip): every line reaches validation, once."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from recon_pipeline.events.model import EventRejected, parse_event
from recon_pipeline.events.snapshot_files import (
    SnapshotFileError,
    is_snapshot_file,
    iter_snapshot_messages,
    read_snapshot_file,
)

SHA = "ab" * 32


def kcat(value: object, *, offset: int, partition: int = 1, key: str | None = "pay-00001") -> str:
    """One line of ``kcat -J`` output."""
    return json.dumps({"topic": "payments.events", "partition": partition, "offset": offset,
                       "tstype": "create", "ts": 1767225600000 + offset, "broker": 1, "headers": [],
                       "key": key, "payload": value})


def mixed_lines(make_event) -> list[str]:
    return [
        make_event(1).decode(),                                   # 1: bare event
        "",                                                       # 2: blank
        kcat(make_event(2).decode(), offset=41),                  # 3: envelope, payload as a string
        "   ",                                                    # 4: whitespace only
        kcat(json.loads(make_event(3)), offset=42, key=None),     # 5: envelope, payload as an object
        "{not json at all",                                       # 6: poison: not JSON
        '["an", "array"]',                                        # 7: poison: JSON, not an object
        kcat('{"event_id": "evt-x"}', offset=43),                 # 8: poison inside an envelope
        make_event(1).decode(),                                   # 9: a redelivery of line 1
    ]


def write(path: Path, lines: list[str], *, gz: bool = False, newline: str = "\n") -> Path:
    data = (newline.join(lines) + newline).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def check_mixed(messages) -> None:
    assert [m.offset for m in messages] == [1, 3, 5, 6, 7, 8, 9]           # line numbers; blanks skipped
    assert all(m.origin == "file" and m.source == SHA for m in messages)
    bare, env_str, env_obj, not_json, array, bad_env, again = messages
    assert parse_event(bare.value).event_id == "evt-00001" and bare.topic is None and bare.partition is None
    assert parse_event(env_str.value).event_id == "evt-00002"
    assert (env_str.topic, env_str.partition, env_str.key, env_str.timestamp_ms) == (
        "payments.events", 1, b"pay-00001", 1767225600041)
    assert parse_event(env_obj.value).event_id == "evt-00003" and env_obj.key is None
    assert parse_event(again.value).event_id == "evt-00001"
    with pytest.raises(EventRejected, match="not JSON"):
        parse_event(not_json.value)
    assert not_json.value == b"{not json at all"                         # raw bytes kept for quarantine
    with pytest.raises(EventRejected, match="not an object"):
        parse_event(array.value)
    with pytest.raises(EventRejected, match="missing required field"):
        parse_event(bad_env.value)
    assert bad_env.value == b'{"event_id": "evt-x"}'


def test_plain_jsonl_with_bare_events_envelopes_poison_and_blank_lines(tmp_path, make_event):
    path = write(tmp_path / "events.jsonl", mixed_lines(make_event))
    check_mixed(list(iter_snapshot_messages(path, SHA)))


def test_gzip_and_crlf_files_read_the_same_as_plain(tmp_path, make_event):
    lines = mixed_lines(make_event)
    gz = write(tmp_path / "events.jsonl.gz", lines, gz=True)
    crlf = write(tmp_path / "crlf.jsonl", lines, newline="\r\n")
    check_mixed(list(read_snapshot_file(gz, SHA)))
    check_mixed(list(iter_snapshot_messages(crlf, SHA)))
    # Named .gz but already decompressed: recognised by content, not name.
    check_mixed(list(iter_snapshot_messages(write(tmp_path / "plain.jsonl.gz", lines), SHA)))


def test_truncated_gzip_yields_complete_lines_then_fails_with_a_reason(tmp_path, make_event):
    lines = [make_event(n).decode() for n in range(1, 2001)]
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    got = []
    with pytest.raises(SnapshotFileError) as info:
        for message in iter_snapshot_messages(path, SHA):
            got.append(message)
    assert 0 < len(got) < 2000
    assert [m.offset for m in got] == list(range(1, len(got) + 1))
    assert all(parse_event(m.value).event_id == f"evt-{m.offset:05d}" for m in got)   # no fragment yielded
    assert info.value.lines_read == len(got)
    assert "\n" not in str(info.value) and "cut.jsonl.gz" in str(info.value)
    assert "corrupt or truncated" in str(info.value)


def test_corrupt_gzip_body_fails_with_a_reason(tmp_path, make_event):
    data = bytearray(gzip.compress(b"\n".join(make_event(n) for n in range(50))))
    data[30:60] = b"\x00" * 30
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(SnapshotFileError, match="corrupt or truncated"):
        list(iter_snapshot_messages(path, SHA))


def test_bom_binary_garbage_and_overlong_lines_are_bounded_and_still_yielded(tmp_path, make_event):
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + make_event(1) + b"\n" + b"\xff\xfe\x00garbage\n" + b"x" * 5000 + b"\n"
                     + make_event(2))
    messages = list(iter_snapshot_messages(path, SHA, max_line_bytes=1000))
    assert [m.offset for m in messages] == [1, 2, 3, 4]
    assert parse_event(messages[0].value).event_id == "evt-00001"         # the BOM is not part of the event
    with pytest.raises(EventRejected, match="not UTF-8"):
        parse_event(messages[1].value)
    assert messages[2].value == b"x" * 1000                               # cut to the bound, still quarantined
    assert parse_event(messages[3].value).event_id == "evt-00002"         # last line without a newline


def test_snapshot_file_names():
    assert is_snapshot_file("a.jsonl") and is_snapshot_file("A.JSONL.GZ")
    assert not is_snapshot_file("a.json") and not is_snapshot_file("a.csv.gz")
