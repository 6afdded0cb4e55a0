"""The generator's working model: payments with their events, bank lines, match groups.

Traps build these; the file writers and the truth read them. Each item carries its expected
verdict (``status``, ``exception``) next to the data, so the answer key is written by the
same code that plants the difficulty, never re-derived afterwards.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from recon_pipeline.scenario.accounts import Account, Counterparty
from recon_pipeline.scenario.writers import Entry, Party, TxDetail


@dataclass(eq=False)
class Event:
    at: dt.datetime              # UTC, for ordering and the kcat timestamp
    obj: dict[str, Any]          # the JSON object, field order as producers send it

    @property
    def event_id(self) -> str:
        return self.obj["event_id"]


@dataclass(eq=False)
class Payment:
    payment_id: str
    kind: str
    account: Account
    direction: str               # outgoing | incoming
    amount: Decimal
    end_to_end_id: str
    batch_id: str | None
    counterparty: Counterparty
    remittance: str
    pay_cycle: dt.date
    events: list[Event] = field(default_factory=list)
    status: str | None = None
    exception: str | None = None

    @property
    def sign(self) -> int:
        return -1 if self.direction == "outgoing" else 1

    @property
    def payment_status(self) -> str:
        last = max(self.events, key=lambda e: e.at)
        return last.obj["event_type"].split(".", 1)[1]


@dataclass(eq=False)
class Line:
    account: Account
    kind: str
    booking_date: dt.date
    value_date: dt.date
    amount: Decimal              # signed: credit +, debit -
    end_to_end_id: str | None    # as the bank reports it
    counterparty: Party | None
    remittance: str | None
    order: int                   # position among the day's entries (random, fixed by the seed)
    seq: int                     # creation order, the tie-breaker
    batch_id: str | None = None
    details: tuple[TxDetail, ...] = ()
    return_reason: str | None = None
    family: str = "ICDT"
    sub_family: str = "ESCT"
    bank_reference: str | None = None
    status: str | None = None
    exception: str | None = None
    statement_file: str | None = None  # the file (page) the line is written to

    def entry(self) -> Entry:
        assert self.bank_reference is not None
        return Entry(
            amount=self.amount, booking_date=self.booking_date, value_date=self.value_date,
            bank_reference=self.bank_reference, end_to_end_id=self.end_to_end_id,
            counterparty=self.counterparty, remittance=self.remittance, batch_id=self.batch_id,
            return_reason=self.return_reason, domain_family=self.family,
            domain_sub_family=self.sub_family, details=self.details)


@dataclass(eq=False)
class Group:
    """What must end up under one match_id."""

    kind: str
    payments: list[Payment]
    lines: list[Line]

