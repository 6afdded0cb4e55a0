"""Participant services for generated scenarios (CONTRACT §6), with the answer key.

A real payment is reported by several of our services: the entry service that starts it
(``payouts`` for what we pay, ``collections`` for what we collect) and the participants its
flow names (the ledger books it, the gateway carries it). Tests, the demo and the bench need
data in which those services sometimes disagree, and need to know in advance which exception
each disagreement must raise in which pay cycle. This module adds that layer on top of a
scenario the generator has already planned:

* every payment's own lifecycle is re-labelled as the entry service's (the bank side of the
  scenario is untouched: same payments, amounts, lines and files);
* each participant mirrors the entry's events from ``payment.sent`` on, shortly after them,
  except where a *behaviour* says otherwise: ``never`` reports, reports ``after_deadline``
  (two days later), ``late_within`` the deadline, with a different ``amount``, with a
  contradicting ``status``, or with an ``in_flight`` disagreement corrected within the grace
  period;
* participants' events go to their own folders (``services/<service>/``), one snapshot per
  day, so a run can take them or leave them out and the bank-side result must not change.

A separate random stream (derived from the seed) is used, so switching participants on
changes no byte of the statements and no payment of the scenario.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

FLOWS: dict[str, tuple[str, ...]] = {"payouts": ("ledger", "gateway"), "collections": ("ledger",)}
REPORT_WITHIN_HOURS = 24
LATE_AFTER_HOURS = 2
# Each break once, in this order of preference for the payments that allow it.
BEHAVIOURS = ("never", "after_deadline", "late_within", "amount", "status", "in_flight")
UTC = dt.UTC
_STREAM = 0x5EC7  # mixes the scenario seed into the participants' own random stream


def entry_service(direction: str) -> str:
    return "payouts" if direction == "outgoing" else "collections"


def config_yaml() -> str:
    """The ``internal_consistency`` section matching the generated data."""
    lines = ["internal_consistency:", "  flows:"]
    lines += [f"    {entry}: [{', '.join(parts)}]" for entry, parts in FLOWS.items()]
    lines += [f"  report_within_hours: {REPORT_WITHIN_HOURS}", f"  late_after_hours: {LATE_AFTER_HOURS}"]
    return "\n".join(lines) + "\n"


@dataclass
class _Report:
    at: dt.datetime
    event_type: str
    amount: Decimal


def _cycle_end(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), UTC)


def _cycle_of(instant: dt.datetime) -> dt.date:
    """UTC day: the generator's pay cycles (cut-off 00:00, UTC)."""
    return instant.astimezone(UTC).date()


def _break_cycle(since: dt.datetime) -> dt.date:
    """The first cycle at whose end a disagreement since ``since`` is past the grace period."""
    return _cycle_of(since + dt.timedelta(hours=LATE_AFTER_HOURS))


def add_participants(builder: Any, seed: int, out_dir: Path) -> dict[str, Any]:
    """Label entry events, write the participants' snapshots, return the truth section.

    ``builder`` is the generator's working model (payments with their events, the cycles).
    """
    rng = random.Random(seed * 1_000_003 + _STREAM)
    last = builder.last
    payments = sorted(builder.payments, key=lambda p: p.payment_id)
    for p in payments:
        for event in p.events:
            event.obj["service"] = entry_service(p.direction)

    chosen = _choose(payments, last, rng)
    reports: dict[str, list[dict[str, Any]]] = {}
    truth_rows = []
    for p in payments:
        sent = min(e.at for e in p.events if e.obj["event_type"] == "payment.sent")
        for service in FLOWS[entry_service(p.direction)]:
            behaviour = chosen.get((p.payment_id, service), "on_time")
            own = _reports(p, sent, behaviour, rng)
            own = [r for r in own if r.at < _cycle_end(last)]
            for r in own:
                reports.setdefault(service, []).append(_event(p, r, service, rng))
            truth_rows.append({"payment_id": p.payment_id, "service": service, "behaviour": behaviour,
                               "pay_cycle": p.pay_cycle.isoformat(),
                               "exceptions": _expected(p, sent, own, behaviour, last)})
    dirs = _write(out_dir / "services", reports, rng)
    return {
        "flows": {entry: list(parts) for entry, parts in FLOWS.items()},
        "report_within_hours": REPORT_WITHIN_HOURS,
        "late_after_hours": LATE_AFTER_HOURS,
        "event_dirs": [str(d) for d in dirs],
        "participants": truth_rows,
    }


def _choose(payments: list[Any], last: dt.date, rng: random.Random) -> dict[tuple[str, str], str]:
    """One (payment, participant) per behaviour, on a payment whose days leave room for it."""
    def days_left(p: Any) -> int:
        return (last - p.pay_cycle).days

    def fits(p: Any, behaviour: str) -> bool:
        status = p.payment_status
        if behaviour == "never":
            return days_left(p) >= 1
        if behaviour == "after_deadline":
            return days_left(p) >= 2
        if behaviour == "status":
            return days_left(p) >= 1 and status == "completed"
        if behaviour == "in_flight":
            return days_left(p) >= 1 and status in ("sent", "completed")
        return days_left(p) >= 1

    taken: set[str] = set()
    chosen: dict[tuple[str, str], str] = {}
    pool = list(payments)
    rng.shuffle(pool)
    for behaviour in BEHAVIOURS:
        for p in pool:
            if p.payment_id in taken or not fits(p, behaviour):
                continue
            service = rng.choice(FLOWS[entry_service(p.direction)])
            chosen[(p.payment_id, service)] = behaviour
            taken.add(p.payment_id)
            break
    return chosen


def _minutes(rng: random.Random, low: int, high: int) -> dt.timedelta:
    return dt.timedelta(seconds=rng.randrange(low * 60, high * 60))


def _reports(p: Any, sent: dt.datetime, behaviour: str, rng: random.Random) -> list[_Report]:
    """The participant's events: the entry's from payment.sent on, mirrored shortly after."""
    if behaviour == "never":
        return []
    mirrored = sorted((e for e in p.events if e.at >= sent), key=lambda e: (e.at, e.event_id))
    if behaviour == "after_deadline":
        first = dt.datetime.combine(p.pay_cycle + dt.timedelta(days=2), dt.time(), UTC) + _minutes(rng, 360, 600)
    elif behaviour == "late_within":
        first = sent + _minutes(rng, 180, 600)
    else:
        first = sent + _minutes(rng, 2, 60)
    out: list[_Report] = []
    at = first
    for event in mirrored:
        at = max(at + dt.timedelta(seconds=30), event.at + _minutes(rng, 1, 20)) if out else first
        out.append(_Report(at, event.obj["event_type"], p.amount))
    if behaviour == "amount":
        delta = Decimal(rng.randrange(1000, 9900)) / 100
        for r in out:
            r.amount = p.amount + delta
    elif behaviour == "status":
        completed = next(r for r in out if r.event_type == "payment.completed")
        completed.event_type = "payment.failed"
        out = [r for r in out if r.event_type in ("payment.sent", "payment.failed")]
    elif behaviour == "in_flight":
        # Says a different amount late in the pay day, corrects it early next morning: the
        # disagreement never outlives the grace period at any cycle's end.
        evening = dt.datetime.combine(p.pay_cycle, dt.time(23), UTC) + _minutes(rng, 10, 50)
        morning = dt.datetime.combine(p.pay_cycle + dt.timedelta(days=1), dt.time(), UTC) + _minutes(rng, 10, 50)
        out = [r for r in out if r.at < evening - dt.timedelta(minutes=5)]
        out.append(_Report(evening, "payment.sent", p.amount + Decimal("10.00")))
        out.append(_Report(morning, "payment.sent", p.amount))
    return out


def _expected(p: Any, sent: dt.datetime, own: list[_Report], behaviour: str, last: dt.date) -> list[dict]:
    """The exceptions §6 must raise for one participant, with the cycle each is raised in and,
    for a report landing after the deadline, the cycle its participant_missing is resolved in."""
    deadline = sent + dt.timedelta(hours=REPORT_WITHIN_HOURS)
    expected = []
    first = own[0].at if own else None
    if first is None or first > deadline:
        raised = _cycle_of(deadline)
        resolved = _cycle_of(first) if first is not None else None
        if raised <= last and raised != resolved:
            expected.append({"type": "participant_missing", "raised_cycle": raised.isoformat(),
                             "resolved_cycle": resolved.isoformat() if resolved else None})
    if first is not None and first > sent + dt.timedelta(hours=LATE_AFTER_HOURS):
        expected.append({"type": "late_report", "raised_cycle": _cycle_of(first).isoformat(),
                         "resolved_cycle": None})
    if behaviour == "amount":
        since = max(sent, own[0].at)
        expected.append({"type": "internal_amount_mismatch", "raised_cycle": _break_cycle(since).isoformat(),
                         "resolved_cycle": None})
    if behaviour == "status":
        entry_completed = max(e.at for e in p.events if e.obj["event_type"] == "payment.completed")
        failed = next(r.at for r in own if r.event_type == "payment.failed")
        expected.append({"type": "internal_status_mismatch",
                         "raised_cycle": _break_cycle(max(entry_completed, failed)).isoformat(),
                         "resolved_cycle": None})
    return [e for e in expected if e["raised_cycle"] <= last.isoformat()]


def _event(p: Any, r: _Report, service: str, rng: random.Random) -> dict[str, Any]:
    return {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "event_type": r.event_type,
        "occurred_at": r.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "payment_id": p.payment_id,
        "end_to_end_id": p.end_to_end_id,
        "batch_id": p.batch_id,
        "amount": f"{r.amount:f}",
        "currency": p.account.currency,
        "direction": p.direction,
        "account_iban": p.account.iban,
        "counterparty_name": p.counterparty.name,
        "counterparty_iban": p.counterparty.iban,
        "return_reason": None,
        "service": service,
    }


def _write(root: Path, reports: dict[str, list[dict[str, Any]]], rng: random.Random) -> list[Path]:
    """One JSON Lines snapshot per service per day, events in time order."""
    dirs = []
    for service in sorted(reports):
        folder = root / service
        folder.mkdir(parents=True, exist_ok=True)
        per_day: dict[str, list[dict[str, Any]]] = {}
        for obj in sorted(reports[service], key=lambda o: (o["occurred_at"], o["event_id"])):
            per_day.setdefault(obj["occurred_at"][:10], []).append(obj)
        for day, objs in sorted(per_day.items()):
            text = "".join(json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n" for o in objs)
            (folder / f"events_{service}_{day}.jsonl").write_text(text, encoding="utf-8")
        dirs.append(folder)
    return dirs
