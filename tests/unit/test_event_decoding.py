"""The quick decoder (orjson) must never change what an event loads as, or why one is refused.

The reference is the standard library's decoder with Decimal floats, which is what the
event contract was written against; every case here is one where orjson on its own would
answer differently (a float, an integer past 64 bits, NaN, a nested object, a duplicate key).
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from recon_pipeline.events.model import EventRejected, event_from_object, extra_json, parse_event
from recon_pipeline.events.snapshot_files import message_from_line

NOW = dt.datetime(2026, 10, 2, tzinfo=dt.UTC)
BASE = ('"event_id":"e1","event_type":"payment.sent","occurred_at":"2026-10-01T10:00:00Z",'
        '"payment_id":"p1","amount":"10.50","currency":"EUR","direction":"outgoing",'
        '"account_iban":"DE89370400440532013000"')
VALUES = [
    "{" + BASE + "}",
    "{" + BASE + ',"fee":0.10}',                           # float extra: Decimal text kept
    "{" + BASE + ',"seq":123456789012345678901234567890}',  # integer past 64 bits
    "{" + BASE + ',"ratio":NaN}',
    "{" + BASE + ',"meta":{"x":1.25,"y":[1,2]}}',
    "{" + BASE + ',"amount":"99.00"}',                     # duplicate key: the last wins
    "{" + BASE.replace('"10.50"', "10.5") + "}",           # a number where text is required
    "{" + BASE + ',"flag":true,"count":3,"note":null}',
    '{"event_id":"e1"}',
    "[1,2]",
    "not json",
]


def _reference(text: str):
    try:
        obj = json.loads(text, parse_float=Decimal)
    except ValueError:
        return "not JSON"
    try:
        event = event_from_object(obj)
    except EventRejected as exc:
        return f"rejected: {exc}"
    return event, extra_json(event.extra) if event.extra else None


def _quick(text: str):
    try:
        event = parse_event(text.encode(), now=NOW)
    except EventRejected as exc:
        return "not JSON" if str(exc).startswith("value is not") else f"rejected: {exc}"
    return event, extra_json(event.extra) if event.extra else None


@pytest.mark.parametrize("text", VALUES)
def test_an_event_loads_and_is_refused_exactly_as_the_standard_decoder_says(text):
    assert _quick(text) == _reference(text)


@pytest.mark.parametrize("text", VALUES)
def test_an_envelope_carries_the_same_payload_whichever_decoder_read_it(text):
    envelope = json.dumps({"topic": "payments", "partition": 3, "offset": 2**63 + 5, "ts": 1, "payload": text})
    message = message_from_line(envelope.encode(), 7, "sha")
    assert message.value == text.encode()
    assert message.partition == 3 and message.topic == "payments"
    # A payload given as an object (some exporters) is re-serialised the same way as before.
    if text.startswith("{") and "NaN" not in text:
        obj_line = json.dumps({"topic": "t", "partition": 0, "payload": json.loads(text)}).encode()
        assert message_from_line(obj_line, 1, "sha").value == json.dumps(
            json.loads(text), ensure_ascii=False, separators=(",", ":")).encode()
