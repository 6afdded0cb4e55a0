"""The consumer-group commit: an export for lag dashboards, never read back by recon.

What has landed is recorded in the warehouse's offsets ledger; the group's committed offset
only lets the usual Kafka tooling show how far recon is behind. So a commit comes after the
range is recorded, and a failed commit is reported, never raised.
"""
from __future__ import annotations

from confluent_kafka import KafkaException, TopicPartition

from recon_pipeline.events.kafka.client import log, new_consumer, one_line
from recon_pipeline.settings import KafkaSettings


class GroupCommitter:
    """Commits the group to each recorded end, for lag monitoring only; failures never fail a run."""

    def __init__(self, ks: KafkaSettings):
        self._ks = ks
        self._consumer = None
        self.errors: list[str] = []

    def commit(self, topic: str, partition: int, end: int) -> None:
        try:
            if self._consumer is None:
                self._consumer, _ = new_consumer(self._ks)
            self._consumer.commit(offsets=[TopicPartition(topic, int(partition), int(end))], asynchronous=False)
        except KafkaException as exc:
            reason = f"commit of {topic}/{partition} at {end} failed: {one_line(str(exc))}"
            log.warning("%s (the ledger is unaffected)", reason)
            self.errors.append(reason)

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
