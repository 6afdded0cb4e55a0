"""Event snapshots: the payment events as the Kafka topic would have delivered them.

Real snapshot files are not tidy: some are bare JSON Lines, some come as ``kcat -J``
envelopes with Kafka coordinates, some are gzipped, and at-least-once delivery repeats
events, sometimes a day later. Recon must read all of them and count each event once, so the
scenario writes all of them.
"""
from __future__ import annotations

import datetime as dt
import gzip
import json
import zlib
from pathlib import Path

from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.config import PARTITIONS, TOPIC, UTC
from recon_pipeline.scenario.model import Event
from recon_pipeline.scenario.traps.poison import poison_rows


def event_json(event: Event) -> str:
    """One event as its producer serialises it: compact, field order kept, UTF-8 as is."""
    return json.dumps(event.obj, ensure_ascii=False, separators=(",", ":"))


def write_events(b: Builder, events_dir: Path, poison: bool) -> dict[str, int]:
    """One snapshot per day. Day 2 comes as ``kcat -J`` envelopes, day 3 gzipped (clamped for
    short scenarios); about 4% of events are delivered a second time, later in the same file
    or in the next day's file, byte for byte the same line."""
    rng = b.rng
    events = sorted((e for p in b.payments for e in p.events), key=lambda e: (e.at, e.event_id))
    # Kafka coordinates, as if every event had gone through the topic in time order.
    coordinates: dict[str, tuple[int, int]] = {}
    next_offset = [rng.randrange(1000, 5000) for _ in range(PARTITIONS)]
    for event in events:
        partition = zlib.crc32(event.obj["payment_id"].encode()) % PARTITIONS
        coordinates[event.event_id] = (partition, next_offset[partition])
        next_offset[partition] += 1

    def file_day(event: Event) -> dt.date:
        # Snapshot files are per UTC day; with a zone and cut-off an event can fall on the UTC
        # day before the first cycle or after the last: it goes in the nearest file.
        return min(max(event.at.date(), b.first), b.last)

    in_order: dict[dt.date, list[Event]] = {day: [] for day in b.cycles}
    for event in events:
        in_order[file_day(event)].append(event)
    per_day = {day: _DayFile(day_events) for day, day_events in in_order.items()}
    del in_order
    redelivered = 0
    for event in events:
        if rng.random() >= 0.04:
            continue
        day = file_day(event)
        later = day + dt.timedelta(days=1)
        if later in per_day and rng.random() < 0.3:
            target = per_day[later]
            target.insert(rng.randrange(len(target) + 1), event)
        else:
            target = per_day[day]
            target.insert(rng.randrange(target.index(event) + 1, len(target) + 1), event)
        redelivered += 1

    envelope_day = b.cycles[min(1, len(b.cycles) - 1)]
    gzip_day = b.cycles[min(2, len(b.cycles) - 1)]
    lines_total = 0
    poisoned = 0
    for day in b.cycles:
        enveloped = day == envelope_day
        rows = []
        for event in per_day[day].events():
            if enveloped:
                partition, offset = coordinates[event.event_id]
                rows.append(json.dumps({
                    "topic": TOPIC, "partition": partition, "offset": offset, "tstype": "create",
                    "ts": (event.at - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(milliseconds=1),
                    "key": event.obj["payment_id"], "payload": event_json(event),
                }, ensure_ascii=False, separators=(",", ":")))
            else:
                rows.append(event_json(event))
        if poison and day == b.first:
            bad = poison_rows(day, enveloped)
            rows.insert(len(rows) // 3, bad[0])
            rows.insert(2 * len(rows) // 3, bad[1])
            poisoned = len(bad)
        lines_total += len(rows)
        data = ("\n".join(rows) + "\n").encode("utf-8") if rows else b""
        name = f"events_{day.isoformat()}.jsonl"
        if day == gzip_day:
            (events_dir / f"{name}.gz").write_bytes(gzip.compress(data, mtime=0))
        else:
            (events_dir / name).write_bytes(data)
    return {"event_lines": lines_total, "events": len(events), "redelivered": redelivered,
            "poison_events": poisoned}


class _DayFile:
    """A day's events in file order, taking re-deliveries at random positions.

    Why not a plain list: ``list.insert`` and ``list.index`` are linear, and a bank's day
    (millions of events, 4% re-delivered) made writing the snapshots quadratic — hours at
    1,000,000 payments. Blocks of the day's events in order, their sizes in a Fenwick tree,
    give a position's block and a block's offset in O(log n); the same positions come out as
    with a list, so a seed still gives the same files. Blocks never split: re-deliveries only
    add a few percent to each.
    """

    BLOCK = 512

    def __init__(self, events: list[Event]):
        self._blocks = [events[i:i + self.BLOCK] for i in range(0, len(events), self.BLOCK)] or [[]]
        # Where each event first appears (re-delivered copies go after it, or in another day).
        self._home = {id(event): k for k, block in enumerate(self._blocks) for event in block}
        self._tree = [0] * (len(self._blocks) + 1)
        for k, block in enumerate(self._blocks):
            self._grow(k, len(block))

    def __len__(self) -> int:
        return self._before(len(self._blocks))

    def events(self):
        for block in self._blocks:
            yield from block

    def index(self, event: Event) -> int:
        """Position of the event's first appearance (``list.index``)."""
        k = self._home[id(event)]
        return self._before(k) + self._blocks[k].index(event)

    def insert(self, position: int, event: Event) -> None:
        """``list.insert``: the event goes before whatever is at ``position`` now."""
        k, rest, step = 0, position, 1 << (len(self._blocks).bit_length() - 1)
        while step:   # the last block that starts before `position` (Fenwick descent)
            if k + step <= len(self._blocks) and self._tree[k + step] < rest:
                k += step
                rest -= self._tree[k]
            step >>= 1
        k = min(k, len(self._blocks) - 1)
        self._blocks[k].insert(rest, event)
        self._grow(k, 1)

    def _grow(self, k: int, by: int) -> None:
        k += 1
        while k < len(self._tree):
            self._tree[k] += by
            k += k & -k

    def _before(self, k: int) -> int:
        total = 0
        while k > 0:
            total += self._tree[k]
            k -= k & -k
        return total
