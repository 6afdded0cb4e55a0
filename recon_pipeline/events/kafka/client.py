"""The Kafka consumer as recon configures it, and librdkafka's errors as one-line exceptions.

librdkafka reports broker trouble only through ``error_cb`` and retries forever on its own,
so this module keeps what it was told (``ClientState``) and turns it into ``KafkaUnavailable``
(nobody answers) or ``KafkaSnapshotError`` (the broker answered, but not as planned), each a
single line a sensor can show as its skip reason and the CLI as its exit message.
"""
from __future__ import annotations

import logging
import re
import time
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException

from recon_pipeline.settings import KafkaSettings

log = logging.getLogger("recon_pipeline.events.kafka")
_librdkafka_log = logging.getLogger("recon.kafka.librdkafka")
# librdkafka retries connection failures every few hundred ms; each try would otherwise be
# printed by Python's last-resort handler. Applications that configure logging still see them.
_librdkafka_log.addHandler(logging.NullHandler())


class KafkaUnavailable(RuntimeError):
    """No broker answers. ``str()`` is one line naming the bootstrap address and the cause."""


class KafkaSnapshotError(RuntimeError):
    """The broker answered, but the planned offsets cannot be read as planned (one-line reason)."""


class ClientState:
    """What ``error_cb`` has told us; librdkafka reports broker trouble only through it."""

    def __init__(self) -> None:
        self.all_brokers_down = False
        self.fatal: str | None = None
        self.last_error: str | None = None

    def on_error(self, err: Any) -> None:
        code = err.code()
        if code == KafkaError._ALL_BROKERS_DOWN:
            self.all_brokers_down = True
        else:
            self.last_error = one_line(err.str())
        if err.fatal():
            self.fatal = one_line(err.str())

    def progressed(self) -> None:
        self.all_brokers_down = False


_BROKER_PREFIX = re.compile(r"^\S+/\S+: ")           # "127.0.0.1:9092/bootstrap: "
_STATE_SUFFIX = re.compile(r"\s*\(after \d+ms in state \w+\)")
_SUPPRESSED = re.compile(r"(:\s*)?\d+ identical error\(s\) suppressed\s*$")


def one_line(text: str) -> str:
    """A librdkafka message without its broker prefix, state suffix and repeat counter."""
    text = " ".join(str(text).split())
    text = _BROKER_PREFIX.sub("", text)
    text = _STATE_SUFFIX.sub("", text)
    return _SUPPRESSED.sub("", text).strip().rstrip(",") or "unknown error"


def consumer_config(ks: KafkaSettings, state: ClientState) -> dict[str, Any]:
    """recon.yaml's client settings, then the settings that make a snapshot exact."""
    timeout_ms = int(min(max(ks.poll_timeout_seconds, 1.0), 60.0) * 1000)
    conf: dict[str, Any] = {
        "bootstrap.servers": ks.bootstrap,
        "client.id": "recon",
        "socket.timeout.ms": timeout_ms,
        "socket.connection.setup.timeout.ms": timeout_ms,
        "reconnect.backoff.ms": 100,
        "reconnect.backoff.max.ms": 2000,
        "fetch.wait.max.ms": 100,        # EOF is detected on an empty fetch: don't wait long for one
    }
    conf.update(ks.client_config)        # SASL/SSL and tuning from recon.yaml
    conf["error_cb"] = state.on_error
    conf["logger"] = _librdkafka_log      # not librdkafka's stderr spam
    # Not overridable: these are what make a snapshot exact and side-effect free.
    conf.update({
        "group.id": ks.group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "error",    # a vanished offset is an error, never a silent skip
    })
    return conf


def new_consumer(ks: KafkaSettings) -> tuple[Any, ClientState]:
    state = ClientState()
    return Consumer(consumer_config(ks, state)), state


def unreachable(ks: KafkaSettings, reason: str) -> KafkaUnavailable:
    return KafkaUnavailable(f"Kafka broker at {ks.bootstrap} is unreachable: {one_line(reason)}")


def connect(consumer: Any, ks: KafkaSettings, state: ClientState) -> Any:
    """Cluster metadata, or ``KafkaUnavailable`` as soon as librdkafka says all brokers are down."""
    deadline = time.monotonic() + max(ks.poll_timeout_seconds, 1.0)
    last = "no answer"
    while True:
        remaining = deadline - time.monotonic()
        try:
            return consumer.list_topics(timeout=max(0.05, min(0.5, remaining)))
        except KafkaException as exc:
            last = exc.args[0].str() if exc.args and hasattr(exc.args[0], "str") else str(exc)
        consumer.poll(0)                 # serves error_cb
        if state.fatal:
            raise unreachable(ks, state.fatal)
        if state.all_brokers_down:
            raise unreachable(ks, state.last_error or last)
        if time.monotonic() >= deadline:
            raise unreachable(ks, f"no answer within {ks.poll_timeout_seconds:g}s ({state.last_error or last})")


def stalled(ks: KafkaSettings, state: ClientState, what: str) -> Exception:
    """Why nothing arrived within the poll timeout: the broker is down, or the offset is beyond the end."""
    if state.fatal or state.all_brokers_down:
        return unreachable(ks, state.fatal or state.last_error or "all brokers are down")
    return KafkaSnapshotError(
        f"{what}: no progress within {ks.poll_timeout_seconds:g}s; if the broker is up, the recorded "
        f"offset may lie beyond the partition's end (topic re-created or broker data lost)")


def partition_error(ks: KafkaSettings, msg: Any) -> Exception | None:
    """Turn an error event into an exception, or None for the transient ones librdkafka retries."""
    err = msg.error()
    code = err.code()
    where = f"{msg.topic()}/{msg.partition()}" if msg.topic() else "consumer"
    if err.fatal():
        return unreachable(ks, err.str())
    if code in (KafkaError._AUTO_OFFSET_RESET, KafkaError.OFFSET_OUT_OF_RANGE):
        return KafkaSnapshotError(
            f"{where}: the planned offset is no longer on the broker ({one_line(err.str())}); "
            f"retention deleted messages before recon landed them, or the topic was re-created")
    if code in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_PARTITION, KafkaError._UNKNOWN_TOPIC,
                KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED):
        return KafkaSnapshotError(f"{where}: {one_line(err.str())}")
    log.warning("Kafka consumer error on %s (retrying): %s", where, one_line(err.str()))
    return None
