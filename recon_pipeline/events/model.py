"""Our own version of each transaction: payment events, validated against CONTRACT.md §1.1.

A message from Kafka or from a snapshot file becomes either a ``PaymentEvent`` or an
``EventRejected`` with a one-line reason; it never silently disappears. Unknown extra fields
are kept (as JSON) so producers can evolve without recon dropping what they send.

Whether an amount fits the warehouse's DECIMAL column is the warehouse loader's question
(``warehouse.load_events`` asks ``value_checks``), not the event's: this package never
imports the warehouse.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from recon_pipeline.events.fast_json import flat_object

EVENT_TYPES = (
    "payment.initiated",
    "payment.sent",
    "payment.completed",
    "payment.failed",
    "payment.returned",
    "payment.cancelled",
)
DIRECTIONS = ("outgoing", "incoming")
REQUIRED = ("event_id", "event_type", "occurred_at", "payment_id", "amount", "currency",
            "direction", "account_iban")
OPTIONAL = ("end_to_end_id", "batch_id", "counterparty_name", "counterparty_iban",
            "return_reason", "service")
KNOWN_FIELDS = frozenset(REQUIRED + OPTIONAL)

_AMOUNT = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# RFC 3339: date, 'T' or space, time, optional fraction, mandatory offset or Z.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


class EventRejected(ValueError):
    """The message is not a valid payment event. ``str()`` is the one-line quarantine reason."""


@dataclass(frozen=True)
class EventMessage:
    """A message as it arrived, before validation: the raw bytes and where they came from."""

    value: bytes
    origin: str                      # "kafka" or "file"
    source: str                      # topic, or landed file sha256
    partition: int | None = None
    offset: int | None = None        # Kafka offset, or line number in a snapshot file
    key: bytes | None = None
    timestamp_ms: int | None = None
    topic: str | None = None


@dataclass(frozen=True)
class PaymentEvent:
    event_id: str
    event_type: str
    occurred_at: dt.datetime         # timezone-aware, normalised to UTC
    payment_id: str
    amount: Decimal
    currency: str
    direction: str
    account_iban: str
    end_to_end_id: str | None = None
    batch_id: str | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    return_reason: str | None = None
    service: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def parse_event(value: bytes | str, now: dt.datetime | None = None) -> PaymentEvent:
    """Validate one message value; raise ``EventRejected`` naming the first problem found.

    With ``now`` (the loader passes its clock), an event dated beyond tomorrow (UTC) is
    rejected: no pay cycle that far ahead is ever built, so it would sit in the warehouse
    unseen by every check and mart.
    """
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EventRejected(f"value is not UTF-8 (byte {exc.start})") from None
    else:
        text = value
    obj = flat_object(text)
    try:
        if obj is None:
            obj = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise EventRejected(f"value is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise EventRejected("value is not usable JSON: nested too deeply") from None
    except (ValueError, ArithmeticError) as exc:   # e.g. a number literal too long to convert
        raise EventRejected(f"value is not usable JSON: {type(exc).__name__}: {exc}"[:200]) from None
    event = event_from_object(obj)
    if now is not None:
        horizon = now.astimezone(dt.UTC).date() + dt.timedelta(days=1)
        if event.occurred_at.date() > horizon:
            raise EventRejected(f"occurred_at {event.occurred_at.isoformat()} is beyond tomorrow "
                                f"({horizon.isoformat()} UTC): no pay cycle that far ahead is built")
    return event


def event_from_object(obj: Any) -> PaymentEvent:
    if not isinstance(obj, dict):
        raise EventRejected(f"value is a JSON {type(obj).__name__}, not an object")
    missing = [f for f in REQUIRED if obj.get(f) in (None, "")]
    if missing:
        raise EventRejected(f"missing required field(s): {', '.join(missing)}")
    for name in REQUIRED + OPTIONAL:
        v = obj.get(name)
        if v is not None and not isinstance(v, str):
            raise EventRejected(f"field {name} must be a string, got {type(v).__name__} {v!r}"[:200])
    if obj["event_type"] not in EVENT_TYPES:
        raise EventRejected(f"unknown event_type {obj['event_type']!r}"[:200])
    if obj["direction"] not in DIRECTIONS:
        raise EventRejected(f"direction must be outgoing or incoming, got {obj['direction']!r}"[:200])
    if not _CURRENCY.match(obj["currency"]):
        raise EventRejected(f"currency must be an ISO 4217 code, got {obj['currency']!r}"[:200])
    amount_text = obj["amount"].strip()
    if not _AMOUNT.match(amount_text):
        raise EventRejected(f"amount must be a positive decimal string, got {obj['amount']!r}"[:200])
    try:
        amount = Decimal(amount_text)
    except InvalidOperation:
        raise EventRejected(f"amount is not a decimal: {obj['amount']!r}"[:200]) from None
    if amount <= 0:
        raise EventRejected(f"amount must be positive, got {amount_text}")
    occurred_at = parse_rfc3339(obj["occurred_at"])
    extra = {k: v for k, v in obj.items() if k not in KNOWN_FIELDS}
    return PaymentEvent(
        event_id=obj["event_id"],
        event_type=obj["event_type"],
        occurred_at=occurred_at,
        payment_id=obj["payment_id"],
        amount=amount,
        currency=obj["currency"],
        direction=obj["direction"],
        account_iban=obj["account_iban"].replace(" ", "").upper(),
        end_to_end_id=obj.get("end_to_end_id") or None,
        batch_id=obj.get("batch_id") or None,
        counterparty_name=obj.get("counterparty_name") or None,
        counterparty_iban=obj.get("counterparty_iban") or None,
        return_reason=obj.get("return_reason") or None,
        service=obj.get("service") or None,
        extra=extra,
    )


def parse_rfc3339(text: str) -> dt.datetime:
    if not _RFC3339.match(text):
        raise EventRejected(f"occurred_at is not an RFC 3339 timestamp with offset: {text!r}"[:200])
    try:
        value = dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise EventRejected(f"occurred_at is not a valid timestamp: {text!r}"[:200]) from None
    return value.astimezone(dt.UTC)


def extra_json(extra: dict[str, Any]) -> str:
    """Unknown fields as canonical JSON (Decimals kept as their exact text)."""
    return json.dumps(extra, sort_keys=True, default=str, ensure_ascii=False)
