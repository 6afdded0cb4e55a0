"""Reading from the broker: one poll loop, and the three questions asked of it.

Every read here goes through ``_poll``: it bounds each wait by the poll timeout (tansu answers a
fetch beyond the end with nothing at all), turns error events into one-line exceptions, and
yields messages and partition-EOF events alike. The end of a partition is the offset of its
EOF event, never the broker's high watermark (which tansu gets wrong).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, TIMESTAMP_NOT_AVAILABLE, KafkaError, TopicPartition

from recon_pipeline.events.kafka.client import (
    ClientState,
    KafkaSnapshotError,
    connect,
    new_consumer,
    partition_error,
    stalled,
)
from recon_pipeline.events.model import EventMessage
from recon_pipeline.settings import KafkaSettings

_POLL_SLICE = 0.2           # seconds per poll() so stalls and broker-down are noticed promptly


def _poll(consumer: Any, state: ClientState, ks: KafkaSettings,
          waiting_for: Callable[[], str]) -> Iterator[tuple[Any, bool]]:
    """``(message, is_eof)`` for ever; fails after ``poll_timeout_seconds`` without progress.

    ``waiting_for`` names what the caller is waiting for, in the failure's one line.
    """
    last_progress = time.monotonic()
    while True:
        msg = consumer.poll(_POLL_SLICE)
        now = time.monotonic()
        if msg is None:
            if now - last_progress > ks.poll_timeout_seconds:
                raise stalled(ks, state, waiting_for())
            continue
        if msg.error():
            if msg.error().code() != KafkaError._PARTITION_EOF:
                exc = partition_error(ks, msg)
                if exc is not None:
                    raise exc
                continue
            state.progressed()
            last_progress = now
            yield msg, True
            continue
        state.progressed()
        last_progress = now
        yield msg, False


def find_ends(consumer: Any, state: ClientState, ks: KafkaSettings, partitions: list[tuple[str, int]],
              starts: Mapping[tuple[str, int], int]) -> tuple[dict, dict]:
    """Each partition's end (its EOF offset), and the first offset seen where no start was known."""
    consumer.assign([TopicPartition(t, p, starts.get((t, p), OFFSET_BEGINNING)) for t, p in partitions])
    ends: dict[tuple[str, int], int] = {}
    first_seen: dict[tuple[str, int], int] = {}
    if not partitions:
        return ends, first_seen

    def pending() -> str:
        return "finding the end of " + ", ".join(f"{t}/{p}" for t, p in partitions if (t, p) not in ends)

    for msg, is_eof in _poll(consumer, state, ks, pending):
        tp = (msg.topic(), msg.partition())
        if tp in ends:
            continue
        if is_eof:
            ends[tp] = msg.offset()
            consumer.pause([TopicPartition(tp[0], tp[1])])
            if len(ends) == len(partitions):
                break
        else:
            first_seen.setdefault(tp, msg.offset())
    return ends, first_seen


def earliest_offset(settings: KafkaSettings, topic: str, partition: int) -> int:
    """The partition's low watermark, as the offset of its first message (or of EOF if empty).

    ``OFFSET_BEGINNING`` resolves correctly even on tansu; only the latest offset does not.
    """
    consumer, state = new_consumer(settings)
    try:
        connect(consumer, settings, state)
        consumer.assign([TopicPartition(topic, int(partition), OFFSET_BEGINNING)])
        for msg, _is_eof in _poll(consumer, state, settings,
                                  lambda: f"finding the earliest offset of {topic}/{partition}"):
            return msg.offset()
        raise AssertionError("unreachable")
    finally:
        consumer.close()


def read_range(settings: KafkaSettings, topic: str, partition: int, start: int, end: int) -> Iterator[EventMessage]:
    """Exactly the messages at offsets ``start`` .. ``end - 1`` of one partition, in order.

    Stops at ``end`` even when more messages exist; offsets missing inside the range
    (compaction, transaction markers) are simply absent. Fails if the partition ends before
    ``end`` — the plan promised offsets the broker no longer has.
    """
    if end <= start:
        return
    consumer, state = new_consumer(settings)
    try:
        connect(consumer, settings, state)
        consumer.assign([TopicPartition(topic, int(partition), int(start))])
        expected = start
        for msg, is_eof in _poll(consumer, state, settings,
                                 lambda: f"reading {topic}/{partition} at offset {expected}"):  # noqa: B023 - the offset reached so far
            offset = msg.offset()
            if is_eof:
                if offset >= end:
                    return
                raise KafkaSnapshotError(
                    f"{topic}/{partition} ends at offset {offset}, before the planned end {end}; "
                    f"the broker lost messages or the topic was re-created")
            if offset < expected:
                continue                 # already delivered (defensive: never emit an offset twice)
            if offset >= end:
                return
            ts_type, ts = msg.timestamp()
            yield EventMessage(
                value=msg.value() if msg.value() is not None else b"",
                origin="kafka",
                source=topic,
                partition=int(partition),
                offset=offset,
                key=msg.key(),
                timestamp_ms=None if ts_type == TIMESTAMP_NOT_AVAILABLE or ts is None or ts < 0 else int(ts),
                topic=topic,
            )
            expected = offset + 1
            if expected >= end:
                return
    finally:
        consumer.close()
