"""What to read next, as plain data: offset ranges and the plan that holds them.

A plan is made from known starts (where landing stopped, per partition) and each partition's
end as its partition-EOF says. It is plain data with a deterministic id, so a sensor can put it
in a run key and run tags, and any process can land it later with exactly the same result.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from recon_pipeline.events.kafka.client import KafkaSnapshotError, connect, log, new_consumer
from recon_pipeline.events.kafka.read import find_ends
from recon_pipeline.settings import KafkaSettings


@dataclass(frozen=True, order=True)
class OffsetRange:
    """Offsets ``start`` .. ``end - 1`` of one topic-partition."""

    topic: str
    partition: int
    start: int
    end: int

    @property
    def key(self) -> str:
        return f"kafka:{self.topic}:{self.partition}:{self.start}-{self.end}"

    @property
    def size(self) -> int:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "partition": self.partition, "start": self.start, "end": self.end}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OffsetRange:
        return cls(str(data["topic"]), int(data["partition"]), int(data["start"]), int(data["end"]))


def ranges_to_json(ranges: Iterable[OffsetRange]) -> str:
    """Canonical JSON of ranges (sorted, compact), e.g. for the ``recon/kafka_ranges`` run tag."""
    return json.dumps([r.to_dict() for r in sorted(ranges)], separators=(",", ":"), sort_keys=True)


def ranges_from_json(text: str | Sequence[Mapping[str, Any]]) -> list[OffsetRange]:
    data = json.loads(text) if isinstance(text, str) else text
    return sorted(OffsetRange.from_dict(d) for d in data)


def partition_key(topic: str, partition: int) -> str:
    """``topic:partition`` (Kafka topic names cannot contain ':'), the JSON key of ``ends``."""
    return f"{topic}:{int(partition)}"


def parse_partition_key(key: str) -> tuple[str, int]:
    topic, _, partition = key.rpartition(":")
    return topic, int(partition)


@dataclass(frozen=True)
class SnapshotPlan:
    """What to read next. ``ends`` holds every partition's end, new data or not."""

    ranges: tuple[OffsetRange, ...]
    ends: Mapping[str, int] = field(default_factory=dict)
    missing_topics: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """Deterministic run key: the same ranges always give the same id ('' when empty)."""
        return "|".join(r.key for r in sorted(self.ranges))

    @property
    def run_key(self) -> str:
        return self.id

    @property
    def is_empty(self) -> bool:
        return not self.ranges

    @property
    def message_count(self) -> int:
        return sum(r.size for r in self.ranges)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ranges": [r.to_dict() for r in sorted(self.ranges)],
                "ends": dict(sorted(self.ends.items())), "missing_topics": list(self.missing_topics)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SnapshotPlan:
        return cls(tuple(ranges_from_json(data.get("ranges", []))),
                   {str(k): int(v) for k, v in (data.get("ends") or {}).items()},
                   tuple(data.get("missing_topics") or ()))

    @classmethod
    def from_json(cls, text: str) -> SnapshotPlan:
        return cls.from_dict(json.loads(text))


def _starts(known: Mapping[Any, int] | None) -> dict[tuple[str, int], int]:
    ends: dict[tuple[str, int], int] = {}
    for k, v in dict(known or {}).items():
        topic, partition = parse_partition_key(k) if isinstance(k, str) else (str(k[0]), int(k[1]))
        ends[(topic, partition)] = int(v)
    return ends


def plan_snapshot(settings: KafkaSettings, known_starts: Mapping[Any, int] | None) -> SnapshotPlan:
    """The ranges to land next: from the known start (or the earliest offset) to the current end.

    ``known_starts`` maps ``(topic, partition)`` or ``"topic:partition"`` to the next offset to
    read — the offsets ledger's ends (``warehouse.kafka_ledger.recorded_ends``). A partition
    absent from it starts at its earliest retained offset, which need not be 0. The end of each
    partition is the offset of its partition-EOF event.
    """
    starts_known = _starts(known_starts)
    consumer, state = new_consumer(settings)
    try:
        metadata = connect(consumer, settings, state)
        partitions: list[tuple[str, int]] = []
        missing: list[str] = []
        for topic in settings.topics:
            tmd = metadata.topics.get(topic)
            if tmd is None or not tmd.partitions:
                missing.append(topic)
                log.warning("Kafka topic %s does not exist on %s; nothing to snapshot from it",
                            topic, settings.bootstrap)
                continue
            partitions.extend((topic, p) for p in sorted(tmd.partitions))
        if not partitions:
            return SnapshotPlan((), {}, tuple(missing))
        ends, first_seen = find_ends(consumer, state, settings, partitions, starts_known)
    finally:
        consumer.close()

    ranges = []
    for tp in partitions:
        end = ends[tp]
        start = starts_known.get(tp, first_seen.get(tp, end))
        if end < start:
            raise KafkaSnapshotError(
                f"{tp[0]}/{tp[1]} ends at offset {end} but offsets up to {start} were already landed; "
                f"the topic was re-created or the broker lost its data")
        if end > start:
            ranges.append(OffsetRange(tp[0], tp[1], start, end))
    return SnapshotPlan(tuple(sorted(ranges)), {partition_key(*tp): ends[tp] for tp in partitions},
                        tuple(missing))
