"""Payment events delivered as files instead of a live topic (CONTRACT.md §1.1).

Teams without Kafka access, and incident exports, hand over JSON Lines: ``*.jsonl`` or
``*.jsonl.gz``, one message a line, either the bare event object or a ``kcat -J`` envelope
(``{"topic","partition","offset","tstype","ts","key","payload",...}``, payload being the event
JSON as a string or, from some exporters, as an object). Each line becomes an
``EventMessage(origin="file", source=<file sha256>, offset=<line number>)`` carrying the
event's own bytes; validation (``parse_event``) happens later, in one place for both sources.

Bad input is never dropped here: a line that is not JSON, not an object, or not UTF-8 is
yielded as-is (its raw bytes as the value) so validation quarantines it with a reason and its
line number. Blank lines carry no message and are skipped (they still count as lines, so line
numbers match what an editor shows).

Bounded cost on hostile files: the file is streamed line by line, and a line longer than
``MAX_LINE_BYTES`` is cut to that many bytes (the rest of the line is skipped) — it still
reaches quarantine, just not in full; the landed file keeps every byte.

Corrupt or truncated gzip: every complete line decoded before the damage is yielded, then
``SnapshotFileError`` is raised (one-line reason, ``lines_read`` says how far it got). The
partial line at the break is not yielded: it would be a fragment, not a message. The caller
decides the policy; the recommended one is to keep the yielded messages (they are real, and
``event_id`` dedup makes a later re-delivery of the intact file harmless) and quarantine the
file itself with the error as its reason, so the loss is visible and counted.
"""
from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from recon_pipeline.events.fast_json import flat_object
from recon_pipeline.events.model import EventMessage

MAX_LINE_BYTES = 8 * 1024 * 1024
SNAPSHOT_SUFFIXES = (".jsonl", ".jsonl.gz")
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_ENVELOPE_KEYS = ("topic", "partition", "offset")


class SnapshotFileError(ValueError):
    """The file cannot be read to its end. ``str()`` is the one-line quarantine reason."""

    def __init__(self, message: str, lines_read: int):
        super().__init__(message)
        self.lines_read = lines_read


def is_snapshot_file(name: str | Path) -> bool:
    """Whether a file name is one of the snapshot formats (``.jsonl``, ``.jsonl.gz``)."""
    return str(name).lower().endswith(SNAPSHOT_SUFFIXES)


def iter_snapshot_messages(path: str | Path, source: str, *,
                           max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[EventMessage]:
    """Stream the messages of one snapshot file; ``source`` is the landed file's sha256.

    Gzip is recognised by its magic bytes, not the name, so a ``.jsonl.gz`` that was already
    decompressed (or a ``.jsonl`` that wasn't) still reads correctly.
    """
    path = Path(path)
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        stream: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw  # type: ignore[assignment]
        line_number = 0
        lines = _lines(stream, max_line_bytes)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                return
            except (OSError, EOFError, zlib.error) as exc:
                what = "gzip data is corrupt or truncated" if gzipped else "read failed"
                detail = " ".join(str(exc).split()) or exc.__class__.__name__
                raise SnapshotFileError(
                    f"{path.name}: {what} after line {line_number}: {detail}", line_number) from None
            line_number += 1
            if line_number == 1 and line.startswith(_BOM):
                line = line[len(_BOM):]
            line = line.strip()
            if not line:
                continue
            yield message_from_line(line, line_number, source)


def read_snapshot_file(path: str | Path, sha256: str) -> Iterator[EventMessage]:
    """``iter_snapshot_messages`` under the name the event loader uses."""
    return iter_snapshot_messages(path, sha256)


def _lines(stream: BinaryIO, max_line_bytes: int) -> Iterator[bytes]:
    """Lines without their terminator, each at most ``max_line_bytes`` long."""
    while True:
        line = stream.readline(max_line_bytes + 1)
        if not line:
            return
        if len(line) > max_line_bytes and not line.endswith(b"\n"):
            # Over-long: keep the head, skip to the end of the line in bounded chunks.
            head = line[:max_line_bytes]
            while True:
                rest = stream.readline(1024 * 1024)
                if not rest or rest.endswith(b"\n"):
                    break
            yield head
            continue
        yield line.rstrip(b"\r\n")


def message_from_line(line: bytes, line_number: int, source: str) -> EventMessage:
    """One non-blank line as a message: the envelope's payload, the bare event, or the raw bytes."""
    obj = flat_object(line)
    if obj is None:
        try:
            obj = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            obj = None
    if isinstance(obj, dict) and _is_envelope(obj):
        return EventMessage(
            value=_payload_bytes(obj.get("payload")),
            origin="file",
            source=source,
            partition=_partition(obj.get("partition")),
            offset=line_number,
            key=_text_bytes(obj.get("key")),
            timestamp_ms=_timestamp(obj),
            topic=obj.get("topic") if isinstance(obj.get("topic"), str) else None,
        )
    # A bare event, or something that is not an event at all: either way its own bytes.
    return EventMessage(value=line, origin="file", source=source, offset=line_number)


def _is_envelope(obj: dict[str, Any]) -> bool:
    # An event carrying an extra field called "payload" is still an event: envelopes have
    # Kafka coordinates and no event_id of their own.
    return "payload" in obj and "event_id" not in obj and any(k in obj for k in _ENVELOPE_KEYS)


def _payload_bytes(payload: Any) -> bytes:
    if payload is None:
        return b""                                   # a tombstone: nothing to validate
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogatepass")
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def _text_bytes(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _partition(value: Any) -> int | None:
    """A Kafka partition number as the warehouse column can hold it (32-bit), else unknown."""
    number = _int_or_none(value)
    return number if number is not None and 0 <= number < 2 ** 31 else None


def _timestamp(obj: dict[str, Any]) -> int | None:
    if str(obj.get("tstype", "")).lower() in ("unknown", "none"):
        return None
    ts = _int_or_none(obj.get("ts"))
    return ts if ts is not None and ts >= 0 else None
