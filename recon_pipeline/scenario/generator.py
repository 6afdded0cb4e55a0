"""Scenario generator: a week of payment events and bank statements, and the answer key.

Demo data, tests and benchmarks all need inputs whose correct reconciliation is known in
advance. This module fabricates them from a seed - same arguments, byte-identical files - and
writes ``truth.json``: what a perfect reconciler must conclude as of the last pay cycle.

Every difficulty the reconciler must handle is one *scenario kind*, built by one function
below (``exact``, ``late_settlement``, ``fee``, ... ``no_reference``). A kind adds payments
with their event lifecycle, the bank lines the bank books for them, and the expected verdicts.
The generator then renders the bank lines as camt.053 (account A) and MT940 (account B), the
events as JSON Lines snapshots (bare objects, ``kcat -J`` envelopes, one day gzipped, some
events redelivered), and the answer key.

Truth semantics (see ``_open_verdict``): items are judged as of the last cycle ``L``; an item
with no counterpart whose age ``(L - item_cycle).days`` has reached the settlement window
(age >= 3, CONTRACT §2) is an exception (``missing_in_bank`` / ``missing_in_books``), otherwise ``unmatched``.
A payment's cycle is the pay cycle of its ``payment.sent`` event in the scenario's time zone and
cut-off (CONTRACT.md §2: cycle D runs from the cut-off on D-1 up to the cut-off on D; with the
default UTC and 00:00 it is the UTC day); a bank line's is its booking date. Event times are
placed relative to the start of their cycle, so the truth never asks the code under test which
cycle an instant is in. Kinds are only placed on days where everything they book still falls inside the
scenario, so no expected verdict depends on data the scenario does not contain.

Usage::

    python -m recon_pipeline.scenario.generator OUT_DIR --start 2026-11-09 --days 7 \\
        --per-day 20 --seed 42 [--poison] [--timezone Europe/Amsterdam --cutoff 17:00] \\
        [--kind tie=2 --kind cutoff_edge=3]
"""
from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import random
import re
import sys
import uuid
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from schwifty import IBAN

from recon_pipeline.iban import iban_valid
from recon_pipeline.scenario.participants import add_participants
from recon_pipeline.scenario.writers import Entry, Party, StatementDoc, TxDetail
from recon_pipeline.scenario.writers.camt053 import write_camt053
from recon_pipeline.scenario.writers.mt940 import write_mt940

SETTLEMENT_WINDOW_DAYS = 3
FEE_TOLERANCE = Decimal("50.00")
CURRENCY = "EUR"
TOPIC = "payments.events"
PARTITIONS = 3
# The return-reason codes recon is configured to know; anything else is an exception.
KNOWN_RETURN_REASONS = ("AC01", "AC04", "AC06", "AG01", "AM04", "MD07", "MS02", "MS03",
                        "RC01", "RR04", "BE04", "FF01")
UNKNOWN_RETURN_REASONS = ("X123", "ZZ99", "XT77")
CENT = Decimal("0.01")
UTC = dt.UTC
AMSTERDAM_WINTER = dt.timezone(dt.timedelta(hours=1))


# =========================================================================== IBANs
def make_iban(country: str, bban: str) -> str:
    """An IBAN with its ISO 13616 check digits, computed by schwifty."""
    return str(IBAN.from_bban(country, bban))


def iban_is_valid(iban: str) -> bool:
    """The test every bank applies before accepting an IBAN (country, length, mod-97)."""
    return iban_valid(iban)


# =========================================================================== static cast
@dataclass(frozen=True)
class Account:
    """One of our bank accounts and the format its bank sends statements in."""

    key: str
    iban: str
    bic: str
    format: str                  # "camt053" | "mt940"
    currency: str = CURRENCY

    @property
    def extension(self) -> str:
        return "xml" if self.format == "camt053" else "sta"


ACCOUNT_A = Account("A", make_iban("DE", "500105170648489890"), "INGDDEFFXXX", "camt053")
ACCOUNT_B = Account("B", make_iban("NL", "INGB0007654321"), "INGBNL2A", "mt940")
ACCOUNTS = (ACCOUNT_A, ACCOUNT_B)


@dataclass(frozen=True)
class Counterparty:
    tag: str                     # short code used in our end-to-end ids
    name: str
    city: str
    iban: str
    bic: str

    @property
    def plain(self) -> bool:
        """True when every bank format reports the name unchanged (no folding, no escaping)."""
        return re.fullmatch(r"[A-Za-z0-9 .]+", self.name) is not None

    def party(self) -> Party:
        return Party(name=self.name, iban=self.iban, bic=self.bic, city=self.city)


def _cp(tag: str, name: str, city: str, country: str, bban: str, bic: str) -> Counterparty:
    return Counterparty(tag, name, city, make_iban(country, bban), bic)


# Beneficiaries and payers we do business with. Some names carry characters that XML must
# escape and MT940 cannot carry, on purpose.
COUNTERPARTIES = (
    _cp("ACME", "ACME Industrial Supplies BV", "Rotterdam", "NL", "ABNA0417164300", "ABNANL2A"),
    _cp("MULL", "Müller & Söhne GmbH", "München", "DE", "701500001005263450", "SSKMDEMM"),
    _cp("OBRI", "O'Brien <Consulting> Ltd", "Dublin", "IE", "AIBK93115212345678", "AIBKIE2D"),
    _cp("VERD", "Verdant Energy AG", "Wien", "AT", "1200000513452345", "BKAUATWW"),
    _cp("SMIT", "Smith & Sons Logistics", "Hamburg", "DE", "200400000628305100", "COBADEHH"),
    _cp("NORD", "Nordwind Spedition GmbH", "Bremen", "DE", "290501010081234567", "SBREDE22"),
    _cp("DELT", "Delta Office Furniture BV", "Utrecht", "NL", "RABO0123456789", "RABONL2U"),
    _cp("LUXF", "Lux Facility Services SARL", "Luxembourg", "LU", "0019400644750000", "BCEELULL"),
    _cp("KAFE", "Kaffeerösterei Weiß KG", "Berlin", "DE", "100500000190456712", "BELADEBE"),
    _cp("PIXL", "Pixel Forge Studios", "Amsterdam", "NL", "INGB0005567123", "INGBNL2A"),
    _cp("HANS", "Hanseatic Paper Trading GmbH", "Lübeck", "DE", "230501010001122334", "NOLADE21SHO"),
    _cp("ALPN", "Alpine Tools GmbH", "Innsbruck", "AT", "2050300000123456", "SPIHAT22"),
    _cp("CELT", "Celtic Freight Ltd", "Cork", "IE", "BOFI90001712345678", "BOFIIE2D"),
    _cp("BRUG", "Brouwerij De Brug BV", "Eindhoven", "NL", "ABNA0562390014", "ABNANL2A"),
    _cp("GRUN", "Grün & Partner \"Steuerberatung\"", "Köln", "DE", "370501980012345678", "COLSDE33"),
    _cp("ORBI", "Orbit Cloud Hosting SA", "Luxembourg", "LU", "0030001234567890", "BGLLLULL"),
    _cp("TULP", "Tulp Catering BV", "Haarlem", "NL", "RABO0398765432", "RABONL2U"),
    _cp("ZEIT", "Zeitwerk Uhren GmbH", "Stuttgart", "DE", "600501010002345678", "SOLADEST600"),
    _cp("QUAY", "Quayside Marine Services", "Galway", "IE", "AIBK93208612345600", "AIBKIE2D"),
    _cp("NOVA", "Nova Pharma Distribution BV", "Leiden", "NL", "INGB0004433221", "INGBNL2A"),
)
# Parties we have no books for: they only ever appear on the bank side.
STRANGERS = (
    _cp("JANS", "Janssen Holding BV", "Breda", "NL", "ABNA0611223344", "ABNANL2A"),
    _cp("SCHM", "Frau E. Schmidt", "Dresden", "DE", "850503000221234567", "OSDDDE81"),
    _cp("PEET", "Garage Peeters", "Venlo", "NL", "RABO0311009988", "RABONL2U"),
)


# =========================================================================== working model
@dataclass(eq=False)
class _Event:
    at: dt.datetime              # UTC, for ordering and the kcat timestamp
    obj: dict[str, Any]          # the JSON object, field order as producers send it

    @property
    def event_id(self) -> str:
        return self.obj["event_id"]


@dataclass(eq=False)
class _Payment:
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
    events: list[_Event] = field(default_factory=list)
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
class _Line:
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

    def entry(self) -> Entry:
        assert self.bank_reference is not None
        return Entry(
            amount=self.amount, booking_date=self.booking_date, value_date=self.value_date,
            bank_reference=self.bank_reference, end_to_end_id=self.end_to_end_id,
            counterparty=self.counterparty, remittance=self.remittance, batch_id=self.batch_id,
            return_reason=self.return_reason, domain_family=self.family,
            domain_sub_family=self.sub_family, details=self.details)


@dataclass(eq=False)
class _Group:
    """What must end up under one match_id."""

    kind: str
    payments: list[_Payment]
    lines: list[_Line]


class _Builder:
    """Holds the scenario being built; the kind functions call its small vocabulary."""

    ORDER_SPACE = 10**9

    def __init__(self, rng: random.Random, cycles: Sequence[dt.date], timezone: str = "UTC",
                 cutoff: dt.time = dt.time(0, 0)):
        self.rng = rng
        self.timezone = timezone
        self.cutoff = cutoff
        self.cycles = list(cycles)
        self.first = self.cycles[0]
        self.last = self.cycles[-1]
        self.payments: list[_Payment] = []
        self.lines: list[_Line] = []
        self.groups: list[_Group] = []
        self._amounts: set[Decimal] = set()     # membership only, never iterated
        self._payment_seq: dict[dt.date, int] = {}
        self._e2e_base: dict[dt.date, int] = {}
        self._batch_seq: dict[dt.date, int] = {}

    # ----------------------------------------------------------------- pay-cycle clock
    def cycle_end(self, day: dt.date) -> dt.datetime:
        """The UTC instant cycle ``day`` closes, from CONTRACT.md §2 as written: the cut-off on
        the cycle day, or midnight after it with a 00:00 cut-off."""
        closing_day = day + dt.timedelta(days=1) if self.cutoff == dt.time(0, 0) else day
        return dt.datetime.combine(closing_day, self.cutoff, ZoneInfo(self.timezone)).astimezone(UTC)

    def cycle_start(self, day: dt.date) -> dt.datetime:
        """The UTC instant cycle ``day`` opens: the close of the cycle before."""
        return self.cycle_end(day - dt.timedelta(days=1))

    # ----------------------------------------------------------------- choices
    def days_left(self, day: dt.date) -> int:
        return (self.last - day).days

    def pick_account(self) -> Account:
        return self.rng.choice(ACCOUNTS)

    def pick_counterparty(self, *, plain: bool = False) -> Counterparty:
        pool = [c for c in COUNTERPARTIES if c.plain] if plain else list(COUNTERPARTIES)
        return self.rng.choice(pool)

    def pick_direction(self) -> str:
        return "outgoing" if self.rng.random() < 0.6 else "incoming"

    def amount(self, low: str | None = None) -> Decimal:
        """A fresh amount no other payment or line uses, so amounts alone never make ties."""
        floor = int(Decimal(low or "20") * 100)
        bands = ((2_000, 20_000), (20_000, 200_000), (200_000, 2_000_000), (2_000_000, 8_000_000))
        while True:
            lo, hi = self.rng.choices(bands, weights=(3, 5, 4, 1))[0]
            lo = max(lo, floor)
            if hi <= lo:
                hi = lo * 10
            value = Decimal(self.rng.randrange(lo, hi)) * CENT
            if self.reserve(value):
                return value

    def reserve(self, value: Decimal) -> bool:
        """Claim an (absolute) amount; False when something already uses it."""
        value = abs(value)
        if value in self._amounts:
            return False
        self._amounts.add(value)
        return True

    def remittance(self, day: dt.date) -> str:
        n = self.rng.randrange(100000, 999999)
        m = self.rng.randrange(10, 99)
        return self.rng.choice((
            f"Invoice INV-{n}",
            f"Invoice INV-{n} order {m}",
            f"Rechnung {n} vom {day:%d.%m.%Y}",
            f"Factuur {n} & creditnota <{m}>",
            f"PO {n}/{m} delivery",
            f"Subscription {day:%B %Y} ref {n}",
        ))

    # ----------------------------------------------------------------- payments
    def payment(self, kind: str, day: dt.date, account: Account, *, direction: str | None = None,
                amount: Decimal | None = None, counterparty: Counterparty | None = None,
                batch_id: str | None = None, remittance: str | None = None) -> _Payment:
        """A new payment sent on ``day``. Its end-to-end id is longer than the 16 characters
        MT940 keeps, but unique in its first 16, as a real payment factory's would be."""
        seq = self._payment_seq.get(day, 0) + 1
        self._payment_seq[day] = seq
        if day not in self._e2e_base:
            self._e2e_base[day] = self.rng.randrange(10000, 50000)
        e2e_number = self._e2e_base[day] + seq
        if e2e_number > 99999:
            raise ValueError("too many payments on one day: end-to-end ids would lose their "
                             "unique 16-character prefix")
        cp = counterparty or self.pick_counterparty()
        p = _Payment(
            payment_id=f"PAY-{day:%Y%m%d}-{seq:05d}",
            kind=kind,
            account=account,
            direction=direction or self.pick_direction(),
            amount=amount if amount is not None else self.amount(),
            end_to_end_id=f"E2E-{day:%y%m%d}-{e2e_number:05d}-{cp.tag}",
            batch_id=batch_id,
            counterparty=cp,
            remittance=remittance or self.remittance(day),
            pay_cycle=day,
        )
        self.payments.append(p)
        return p

    def new_batch_id(self, day: dt.date) -> str:
        """16 characters, so MT940's :61: reference carries it whole."""
        n = self._batch_seq.get(day, 0) + 1
        if n > 999:
            raise ValueError("too many batches on one day for 16-character batch ids")
        self._batch_seq[day] = n
        return f"BATCH-{day:%y%m%d}-{n:03d}"

    def lifecycle(self, p: _Payment, *, complete: bool = True, fail: bool = False,
                  return_on: dt.date | None = None, return_reason: str | None = None) -> None:
        """initiated and sent on the pay day, then completed (same or next day, so on the
        last day some are still ``sent``), failed, or completed and later returned. Times keep
        an hour or more clear of the cycle's edges, so the pay cycle of every event is
        unambiguous (``cutoff_edge`` is the kind that goes to the edge on purpose)."""
        day = p.pay_cycle
        self.emit(p, "payment.initiated", day, 6, 8, "payments-api")
        self.emit(p, "payment.sent", day, 8, 12, "payment-gateway")
        if fail:
            self.emit(p, "payment.failed", day, 13, 22, "payment-gateway")
            return
        if complete:
            next_day = day + dt.timedelta(days=1)
            if return_on is None and self.rng.random() < 0.3:
                # Completed the next morning - or, on the last day, not yet: still ``sent``.
                if next_day <= self.last:
                    self.emit(p, "payment.completed", next_day, 6, 22, "ledger")
            else:
                self.emit(p, "payment.completed", day, 13, 22, "ledger")
        if return_on is not None:
            self.emit(p, "payment.returned", return_on, 9, 21, "payment-gateway",
                      return_reason=return_reason)

    def emit(self, p: _Payment, event_type: str, day: dt.date, hour_from: int, hour_to: int,
             service: str, *, return_reason: str | None = None) -> None:
        """An event ``hour_from``..``hour_to`` hours into cycle ``day`` (never near its edges)."""
        seconds = self.rng.randrange(hour_from * 3600, hour_to * 3600)
        self.emit_at(p, event_type, self.cycle_start(day) + dt.timedelta(seconds=seconds), service,
                     return_reason=return_reason)

    def emit_at(self, p: _Payment, event_type: str, at: dt.datetime, service: str, *,
                return_reason: str | None = None) -> None:
        style = self.rng.random()
        millis = self.rng.randrange(1000) if 0.6 <= style < 0.8 else 0
        at = at + dt.timedelta(milliseconds=millis)
        if style < 0.6:
            stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif style < 0.8:
            stamp = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}Z"
        else:
            stamp = at.astimezone(AMSTERDAM_WINTER).isoformat()
        obj: dict[str, Any] = {
            "event_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "event_type": event_type,
            "occurred_at": stamp,
            "payment_id": p.payment_id,
            "end_to_end_id": p.end_to_end_id,
            "batch_id": p.batch_id,
            "amount": f"{p.amount:f}",
            "currency": p.account.currency,
            "direction": p.direction,
            "account_iban": p.account.iban,
            "counterparty_name": p.counterparty.name,
            "counterparty_iban": p.counterparty.iban,
            "return_reason": return_reason,
            "service": service,
        }
        if self.rng.random() < 0.1:
            # A field a newer producer added; recon must keep it, not reject the event.
            obj["trace_id"] = f"{self.rng.getrandbits(64):016x}"
        p.events.append(_Event(at, obj))

    # ----------------------------------------------------------------- bank lines
    def book(self, account: Account, day: dt.date, amount: Decimal, kind: str, *,
             end_to_end_id: str | None, counterparty: Party | None, remittance: str | None,
             value_date: dt.date | None = None, after: _Line | None = None,
             **extra: Any) -> _Line:
        """A line the bank books on ``day``; ``after`` forces it later in the statement."""
        if after is not None and after.booking_date == day:
            order = self.rng.randrange(after.order + 1, after.order + 2 + self.ORDER_SPACE // 10)
        else:
            order = self.rng.randrange(self.ORDER_SPACE)
        line = _Line(account=account, kind=kind, booking_date=day, value_date=value_date or day,
                     amount=amount, end_to_end_id=end_to_end_id, counterparty=counterparty,
                     remittance=remittance, order=order, seq=len(self.lines), **extra)
        self.lines.append(line)
        return line

    def book_payment(self, p: _Payment, day: dt.date, *, amount: Decimal | None = None,
                     end_to_end_id: str | None | bool = True, kind: str | None = None,
                     **extra: Any) -> _Line:
        """The bank's booking of one payment: its reference, counterparty and remittance."""
        absolute = p.amount if amount is None else amount
        if end_to_end_id is True:
            end_to_end_id = p.end_to_end_id
        family = "ICDT" if p.direction == "outgoing" else "RCDT"
        return self.book(p.account, day, p.sign * absolute, kind or p.kind,
                         end_to_end_id=end_to_end_id or None,
                         counterparty=p.counterparty.party(), remittance=p.remittance,
                         family=extra.pop("family", family), **extra)

    # ----------------------------------------------------------------- verdicts
    def settle(self, kind: str, payments: list[_Payment], lines: list[_Line],
               status: str = "matched", exception: str | None = None) -> _Group:
        """Record one expected match group and give every member the same verdict."""
        for item in (*payments, *lines):
            item.status, item.exception = status, exception
        group = _Group(kind, payments, lines)
        self.groups.append(group)
        return group

    def leave_open(self, item: _Payment | _Line, cycle: dt.date, exception: str) -> None:
        item.status, item.exception = _open_verdict(self.last, cycle, exception)


def _open_verdict(last: dt.date, cycle: dt.date, exception: str) -> tuple[str, str | None]:
    """An item with no counterpart: in flight while younger than the settlement window, an
    exception from the window on (age >= 3). Age is whole days between its cycle and the last cycle."""
    age = (last - cycle).days
    if age >= SETTLEMENT_WINDOW_DAYS:
        return "exception", exception
    return "unmatched", None


# =========================================================================== scenario kinds
@dataclass(frozen=True)
class KindSpec:
    name: str
    build: Callable[[_Builder, dt.date], int]   # returns the number of payments it created
    span: int                                     # days after the pay day it books into
    weight: float                                 # default share of the mix
    ages: bool = False                            # leaves items open: show young and old ones


_KINDS: dict[str, KindSpec] = {}


def _kind(name: str, *, span: int = 0, weight: float, ages: bool = False) -> Callable:
    def register(fn: Callable[[_Builder, dt.date], int]) -> Callable[[_Builder, dt.date], int]:
        _KINDS[name] = KindSpec(name, fn, span, weight, ages)
        return fn
    return register


@_kind("exact", weight=40)
def exact(b: _Builder, day: dt.date) -> int:
    """The everyday case: one payment, one line, same reference, amount and day."""
    p = b.payment("exact", day, b.pick_account())
    b.lifecycle(p)
    b.settle("exact", [p], [b.book_payment(p, day)])
    return 1


@_kind("late_settlement", span=1, weight=6)
def late_settlement(b: _Builder, day: dt.date) -> int:
    """Booked one or two days after it was sent (value-dated back to the pay day): the
    payment is open for a cycle or two and must then match inside the window."""
    lag = b.rng.randint(1, min(2, b.days_left(day)))
    p = b.payment("late_settlement", day, b.pick_account())
    b.lifecycle(p)
    line = b.book_payment(p, day + dt.timedelta(days=lag), value_date=day)
    b.settle("late_settlement", [p], [line])
    return 1


@_kind("fee", weight=5)
def fee(b: _Builder, day: dt.date) -> int:
    """Same reference, but the bank deducted (incoming) or added (outgoing) a charge of
    0.50-25.00: within tolerance, so a probable fee, not a mismatch."""
    p = b.payment("fee", day, b.pick_account(), amount=b.amount("100"))
    b.lifecycle(p)
    while True:
        charge = Decimal(b.rng.randrange(50, 2501)) * CENT
        booked = p.amount - charge if p.direction == "incoming" else p.amount + charge
        if b.reserve(booked):
            break
    b.settle("fee", [p], [b.book_payment(p, day, amount=booked)], "partial_match", "probable_fee")
    return 1


@_kind("amount_mismatch", weight=3)
def amount_mismatch(b: _Builder, day: dt.date) -> int:
    """Same reference, amounts 60-900 apart: beyond the fee tolerance, so an exception -
    but the reference still ties the two together, so they stay linked."""
    p = b.payment("amount_mismatch", day, b.pick_account(), amount=b.amount("1000"))
    b.lifecycle(p)
    while True:
        diff = Decimal(b.rng.randrange(6000, 90001)) * CENT
        booked = p.amount + diff if b.rng.random() < 0.5 else p.amount - diff
        if booked > FEE_TOLERANCE and b.reserve(booked):
            break
    b.settle("amount_mismatch", [p], [b.book_payment(p, day, amount=booked)],
             "exception", "amount_mismatch")
    return 1


def _batch_line(b: _Builder, day: dt.date, account: Account, batch_id: str,
                members: list[_Payment], kind: str) -> _Line:
    """One debit for several payments: camt lists each in TxDtls, MT940 only the batch id."""
    details = tuple(TxDetail(end_to_end_id=p.end_to_end_id, amount=p.amount,
                             counterparty=p.counterparty.party(), remittance=p.remittance)
                    for p in members)
    total = sum((p.amount for p in members), Decimal("0"))
    b.reserve(total)
    return b.book(account, day, -total, kind, end_to_end_id=None, counterparty=None,
                  remittance=None, batch_id=batch_id, details=details)


@_kind("batch", weight=3)
def batch(b: _Builder, day: dt.date) -> int:
    """3-5 outgoing payments handed over as one batch and booked as one line for their sum:
    an N:1 match that only the batch id (and, in camt, the TxDtls) can make."""
    account = b.pick_account()
    batch_id = b.new_batch_id(day)
    members = []
    for cp in b.rng.sample(COUNTERPARTIES, b.rng.randint(3, 5)):
        p = b.payment("batch", day, account, direction="outgoing", counterparty=cp,
                      batch_id=batch_id)
        b.lifecycle(p)
        members.append(p)
    b.settle("batch", members, [_batch_line(b, day, account, batch_id, members, "batch")])
    return len(members)


@_kind("partial_batch", weight=1.5, ages=True)
def partial_batch(b: _Builder, day: dt.date) -> int:
    """A batch of 5 of which the bank executed only 4: the 4 match as a group, the fifth
    stays open and ages like any payment the bank never booked. camt only (MT940 would not
    say which four)."""
    batch_id = b.new_batch_id(day)
    members = []
    for cp in b.rng.sample(COUNTERPARTIES, 5):
        p = b.payment("partial_batch", day, ACCOUNT_A, direction="outgoing", counterparty=cp,
                      batch_id=batch_id)
        b.lifecycle(p)
        members.append(p)
    left_out = members.pop(b.rng.randrange(5))
    b.settle("partial_batch", members,
             [_batch_line(b, day, ACCOUNT_A, batch_id, members, "partial_batch")])
    b.leave_open(left_out, day, "missing_in_bank")
    return 5


@_kind("split", weight=3)
def split(b: _Builder, day: dt.date) -> int:
    """One payment settled as two lines with the same reference whose amounts add up to it:
    a 1:N match, not a duplicate and not two amount mismatches."""
    p = b.payment("split", day, b.pick_account(), amount=b.amount("200"))
    b.lifecycle(p)
    cents = int(p.amount * 100)
    while True:
        first = Decimal(b.rng.randrange(cents // 10, cents * 9 // 10)) * CENT
        if b.reserve(first) and b.reserve(p.amount - first):
            break
    lines = [b.book_payment(p, day, amount=first), b.book_payment(p, day, amount=p.amount - first)]
    b.settle("split", [p], lines)
    return 1


def _returned(b: _Builder, day: dt.date, kind: str, reason: str) -> tuple[_Payment, _Line, _Line]:
    """An outgoing payment debited on its pay day and credited back 1-2 days later."""
    returned_on = day + dt.timedelta(days=b.rng.randint(1, min(2, b.days_left(day))))
    p = b.payment(kind, day, b.pick_account(), direction="outgoing")
    b.lifecycle(p, return_on=returned_on, return_reason=reason)
    debit = b.book_payment(p, day)
    credit = b.book(p.account, returned_on, p.amount, kind, end_to_end_id=p.end_to_end_id,
                    counterparty=p.counterparty.party(), remittance=f"RETURN {p.remittance}",
                    return_reason=reason, family="ICDT", sub_family="RRTN")
    return p, debit, credit


@_kind("return_known", span=1, weight=3)
def return_known(b: _Builder, day: dt.date) -> int:
    """A return with a reason code recon knows: both the debit and the return credit belong
    to the payment (two match groups: the debit matches on the pay day, the return when it
    arrives); the payment ends ``returned`` and nothing needs review."""
    p, debit, credit = _returned(b, day, "return_known", b.rng.choice(KNOWN_RETURN_REASONS))
    b.settle("return_known", [p], [debit])
    b.settle("return_known", [p], [credit])
    return 1


@_kind("return_unknown", span=1, weight=2)
def return_unknown(b: _Builder, day: dt.date) -> int:
    """A return whose reason code is not configured: still linked to its payment, but the
    return (and so the payment) is an exception someone must read; the debit stays matched."""
    p, debit, credit = _returned(b, day, "return_unknown", b.rng.choice(UNKNOWN_RETURN_REASONS))
    b.settle("return_unknown", [p], [debit])
    b.settle("return_unknown", [p], [credit], "exception", "unknown_return_reason")
    return 1


@_kind("truncated_ref", weight=4)
def truncated_ref(b: _Builder, day: dt.date) -> int:
    """MT940 bank that cuts our end-to-end id to 16 characters in /EREF/ as well as in the
    :61: reference: only a prefix match (confirmed by amount) finds the payment."""
    p = b.payment("truncated_ref", day, ACCOUNT_B)
    b.lifecycle(p)
    b.settle("truncated_ref", [p], [b.book_payment(p, day, end_to_end_id=p.end_to_end_id[:16])])
    return 1


@_kind("missing_in_bank", weight=3, ages=True)
def missing_in_bank(b: _Builder, day: dt.date) -> int:
    """A payment the bank never books: in flight for the settlement window, then an
    exception. Half of them are completed internally - that is the exposure."""
    p = b.payment("missing_in_bank", day, b.pick_account())
    b.lifecycle(p, complete=b.rng.random() < 0.5)
    b.leave_open(p, day, "missing_in_bank")
    return 1


@_kind("missing_in_books", weight=3, ages=True)
def missing_in_books(b: _Builder, day: dt.date) -> int:
    """A bank line nobody here knows (a stranger's reference, no event): in flight for the
    window, then an exception. Counts as one payment toward the day's volume."""
    stranger = b.rng.choice(STRANGERS)
    account = b.pick_account()
    sign = 1 if b.rng.random() < 0.6 else -1
    reference = f"{stranger.tag}-{b.rng.randrange(10**7):07d}"
    line = b.book(account, day, sign * b.amount(), "missing_in_books", end_to_end_id=reference,
                  counterparty=stranger.party(), remittance=b.remittance(day),
                  family="RCDT" if sign > 0 else "ICDT")
    b.leave_open(line, day, "missing_in_books")
    return 1


@_kind("duplicate_booking", weight=2)
def duplicate_booking(b: _Builder, day: dt.date) -> int:
    """The bank books the same payment twice (new bank reference, same reference and
    amount, same or next day): the first booking matches, the second is the exception."""
    p = b.payment("duplicate_booking", day, b.pick_account())
    b.lifecycle(p)
    first = b.book_payment(p, day)
    again = day if b.days_left(day) == 0 or b.rng.random() < 0.5 else day + dt.timedelta(days=1)
    second = b.book_payment(p, again, after=first)
    b.settle("duplicate_booking", [p], [first])
    second.status, second.exception = "exception", "duplicate_booking"
    return 1


@_kind("status_mismatch", weight=2)
def status_mismatch(b: _Builder, day: dt.date) -> int:
    """We think the payment failed, the bank debited it anyway: linked, and both sides are
    an exception because the money left while our books say it did not."""
    p = b.payment("status_mismatch", day, b.pick_account(), direction="outgoing")
    b.lifecycle(p, fail=True)
    b.settle("status_mismatch", [p], [b.book_payment(p, day)], "exception", "status_mismatch")
    return 1


@_kind("business_duplicates", weight=2)
def business_duplicates(b: _Builder, day: dt.date) -> int:
    """Two genuine payments to the same beneficiary, same amount, same day and text: only
    the end-to-end ids tell them apart, and a matcher that pairs on amount will cross them."""
    account = b.pick_account()
    cp = b.pick_counterparty()
    amount = b.amount()
    text = b.remittance(day)
    for _ in range(2):
        p = b.payment("business_duplicates", day, account, direction="outgoing", amount=amount,
                      counterparty=cp, remittance=text)
        b.lifecycle(p)
        b.settle("business_duplicates", [p], [b.book_payment(p, day)])
    return 2


@_kind("no_reference", weight=3)
def no_reference(b: _Builder, day: dt.date) -> int:
    """The bank line carries no end-to-end id (camt NOTPROVIDED, MT940 no /EREF/); amount,
    booking day and counterparty name single out exactly one open payment. Names are chosen
    so that every format spells them identically, and amounts are unique in the scenario."""
    p = b.payment("no_reference", day, b.pick_account(), counterparty=b.pick_counterparty(plain=True))
    b.lifecycle(p)
    line = b.book_payment(p, day, end_to_end_id=None)
    line.remittance = "TRANSFER"
    b.settle("no_reference", [p], [line])
    return 1


@_kind("cutoff_edge", weight=0)
def cutoff_edge(b: _Builder, day: dt.date) -> int:
    """Sent within 90 seconds of a cut-off: just after the one that opens its cycle (initiated
    just before it, in the cycle before) or just before the one that closes it. Booked by the
    bank on the cycle day; a cycle rule that ignores the cut-off or the time zone puts the
    payment in the wrong cycle. Opt-in (weight 0 in the default mix)."""
    p = b.payment("cutoff_edge", day, b.pick_account())
    after_open = day > b.first and b.rng.random() < 0.5
    if after_open:
        sent = b.cycle_start(day) + dt.timedelta(seconds=b.rng.randrange(0, 90))
    else:
        sent = b.cycle_end(day) - dt.timedelta(seconds=b.rng.randrange(1, 91))
    b.emit_at(p, "payment.initiated", sent - dt.timedelta(seconds=b.rng.randrange(120, 600)), "payments-api")
    b.emit_at(p, "payment.sent", sent, "payment-gateway")
    completed = sent + dt.timedelta(seconds=b.rng.randrange(300, 1800))
    if completed < b.cycle_end(b.last):
        b.emit_at(p, "payment.completed", completed, "ledger")
    b.settle("cutoff_edge", [p], [b.book_payment(p, day)])
    return 1


@_kind("tie", weight=0, ages=True)
def tie(b: _Builder, day: dt.date) -> int:
    """Two equally good candidates: two payments to the same beneficiary, same amount, same
    day, and one bank line for that amount with the name but no reference. Nothing tells
    which payment it settles, so the line is an ``ambiguous_match`` exception, never linked by
    order; both payments stay open (in flight, then missing in the bank). Opt-in."""
    account = b.pick_account()
    cp = b.pick_counterparty(plain=True)
    amount = b.amount()
    payments = [b.payment("tie", day, account, direction="outgoing", amount=amount, counterparty=cp)
                for _ in range(2)]
    for p in payments:
        b.lifecycle(p)
        b.leave_open(p, day, "missing_in_bank")
    line = b.book_payment(payments[0], day, end_to_end_id=None)
    line.remittance = "TRANSFER"
    line.status, line.exception = "exception", "ambiguous_match"
    return 2


# Kinds a scenario gets only when asked for (``kinds=``), so default scenarios stay as they were.
OPT_IN_KINDS: tuple[str, ...] = ("cutoff_edge", "tie")
KINDS: tuple[str, ...] = tuple(_KINDS)
DEFAULT_KIND_WEIGHTS: dict[str, float] = {name: spec.weight for name, spec in _KINDS.items()}


# =========================================================================== the scenario
@dataclass(frozen=True)
class Scenario:
    """Where a generated scenario lives and what it must reconcile to."""

    out_dir: Path
    statements_dir: Path
    events_dir: Path
    truth_path: Path
    cycles: list[dt.date]
    truth: dict[str, Any]
    # Participant services' snapshot folders (``participants=True``), one per service.
    service_events_dirs: tuple[Path, ...] = ()

    @property
    def last_cycle(self) -> dt.date:
        return self.cycles[-1]


def generate_scenario(out_dir: Path, start: dt.date, days: int = 7, payments_per_day: int = 20,
                      seed: int = 42, kinds: Mapping[str, float] | None = None,
                      poison: bool = False, timezone: str = "UTC",
                      cutoff: dt.time = dt.time(0, 0), participants: bool = False) -> Scenario:
    """Write statements, event snapshots and ``truth.json`` under ``out_dir``.

    Deterministic: the same arguments give byte-identical files (no wall clock, no hash
    ordering). ``kinds`` maps kind name to weight (default: every kind, ``exact`` most
    often); each kind with a positive weight appears at least once if the period is long
    enough for it. ``payments_per_day`` is approximate (a batch adds several at once).
    ``timezone`` and ``cutoff`` are the pay-cycle settings the scenario is to be run with
    (``pay_cycle: {timezone, cutoff}`` in recon.yaml); events are timed in those cycles.
    ``participants`` adds our other services' reports and their breaks (CONTRACT §6, see
    ``scenario/participants.py``) without changing the bank side.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    if payments_per_day < 0:
        raise ValueError("payments_per_day must not be negative")
    weights = _check_weights(kinds)
    out_dir = Path(out_dir)
    rng = random.Random(seed)
    cycles = [start + dt.timedelta(days=i) for i in range(days)]
    ZoneInfo(timezone)                      # an unknown zone fails here, before any file is written
    b = _Builder(rng, cycles, timezone, cutoff)
    _plan(b, weights, payments_per_day)

    statements_dir = out_dir / "statements"
    events_dir = out_dir / "events"
    statements_dir.mkdir(parents=True, exist_ok=True)
    events_dir.mkdir(parents=True, exist_ok=True)

    _assign_bank_references(b)
    internal = add_participants(b, seed, out_dir) if participants else None
    accounts, statement_files, first_camt = _write_statements(b, statements_dir)
    event_counts = _write_events(b, events_dir, poison)
    poison_files = 0
    if poison:
        # A camt upload cut off mid-transfer: must be quarantined, never half-loaded.
        cut = first_camt[: len(first_camt) * 3 // 5]
        cut = cut[: cut.rfind(b">") + 1]
        (statements_dir / f"broken_{start.isoformat()}.xml").write_bytes(cut)
        poison_files = 1

    truth = _truth(b, seed, accounts, statement_files, event_counts, poison_files)
    if internal is not None:
        truth["internal_consistency"] = internal
    truth_path = out_dir / "truth.json"
    truth_path.write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    service_dirs = tuple(Path(d) for d in internal["event_dirs"]) if internal else ()
    return Scenario(out_dir, statements_dir, events_dir, truth_path, cycles, truth, service_dirs)


def _check_weights(kinds: Mapping[str, float] | None) -> dict[str, float]:
    if kinds is None:
        return dict(DEFAULT_KIND_WEIGHTS)
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown scenario kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}")
    weights = {name: float(kinds[name]) for name in KINDS if name in kinds}
    if any(w < 0 for w in weights.values()):
        raise ValueError("kind weights must not be negative")
    if not any(w > 0 for w in weights.values()):
        raise ValueError("at least one kind needs a positive weight")
    return weights


def _plan(b: _Builder, weights: Mapping[str, float], payments_per_day: int) -> None:
    """Place one of every wanted kind first (so a default week shows them all; kinds that
    leave items open once in flight and once past the window), then fill
    each day up to its volume by weighted draw. A kind only goes on days that leave room
    for everything it books (``span``)."""
    wanted = [name for name in KINDS if weights.get(name, 0) > 0]

    def fits(name: str, day: dt.date) -> bool:
        return b.days_left(day) >= _KINDS[name].span

    guaranteed: dict[dt.date, list[str]] = {day: [] for day in b.cycles}
    for name in wanted:
        options = [day for day in b.cycles if fits(name, day)]
        if _KINDS[name].ages:
            # One still in flight and one past the window, when the period allows both.
            old = [day for day in options if b.days_left(day) >= SETTLEMENT_WINDOW_DAYS]
            young = [day for day in options if b.days_left(day) < SETTLEMENT_WINDOW_DAYS]
            choices = [group for group in (old, young) if group]
        else:
            choices = [options] if options else []
        for group in choices:
            guaranteed[b.rng.choice(group)].append(name)
    for day in b.cycles:
        count = sum(_KINDS[name].build(b, day) for name in guaranteed[day])
        options = [name for name in wanted if fits(name, day)]
        while options and count < payments_per_day:
            name = b.rng.choices(options, weights=[weights[n] for n in options])[0]
            count += max(1, _KINDS[name].build(b, day))


def _assign_bank_references(b: _Builder) -> None:
    """Banks number their postings in booking order, so references are handed out last,
    per account, in statement order."""
    for account in ACCOUNTS:
        number = b.rng.randrange(100000, 900000)
        for line in _statement_order(b, account):
            number += b.rng.randint(1, 7)          # other customers' postings in between
            if account.format == "camt053":
                line.bank_reference = f"{line.booking_date:%Y%m%d}{number:08d}"
            else:
                line.bank_reference = f"{line.booking_date:%y%m%d}{number:08d}"


def _statement_order(b: _Builder, account: Account) -> list[_Line]:
    lines = [ln for ln in b.lines if ln.account is account]
    return sorted(lines, key=lambda ln: (ln.booking_date, ln.order, ln.seq))


def _statement_name(account: Account, day: dt.date) -> str:
    return f"{account.iban}_{day.isoformat()}.{account.extension}"


def _write_statements(b: _Builder, statements_dir: Path) -> tuple[list[dict], int, bytes]:
    """One statement per account per calendar day; each opening is the previous closing."""
    accounts = []
    files = 0
    first_camt = b""
    for account in ACCOUNTS:
        per_day: dict[dt.date, list[_Line]] = {day: [] for day in b.cycles}
        for line in _statement_order(b, account):
            per_day[line.booking_date].append(line)
        opening = Decimal(b.rng.randrange(25_000_000, 90_000_000)) * CENT
        first_opening = opening
        for day in b.cycles:
            doc = StatementDoc(
                account_iban=account.iban, currency=account.currency, statement_date=day,
                sequence=day.timetuple().tm_yday, opening_balance=opening,
                entries=tuple(line.entry() for line in per_day[day]),
                account_bic=account.bic)
            data = write_camt053(doc) if account.format == "camt053" else write_mt940(doc)
            (statements_dir / _statement_name(account, day)).write_bytes(data)
            files += 1
            if account.format == "camt053" and not first_camt:
                first_camt = data
            opening = doc.closing_balance
        accounts.append({"iban": account.iban, "format": account.format, "currency": account.currency,
                         "bic": account.bic, "opening_balance": f"{first_opening:f}",
                         "closing_balance": f"{opening:f}"})
    return accounts, files, first_camt


def _event_json(event: _Event) -> str:
    return json.dumps(event.obj, ensure_ascii=False, separators=(",", ":"))


def _write_events(b: _Builder, events_dir: Path, poison: bool) -> dict[str, int]:
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

    def file_day(event: _Event) -> dt.date:
        # Snapshot files are per UTC day; with a zone and cut-off an event can fall on the UTC
        # day before the first cycle or after the last: it goes in the nearest file.
        return min(max(event.at.date(), b.first), b.last)

    per_day: dict[dt.date, list[_Event]] = {day: [] for day in b.cycles}
    for event in events:
        per_day[file_day(event)].append(event)
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
        for event in per_day[day]:
            if enveloped:
                partition, offset = coordinates[event.event_id]
                rows.append(json.dumps({
                    "topic": TOPIC, "partition": partition, "offset": offset, "tstype": "create",
                    "ts": (event.at - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(milliseconds=1),
                    "key": event.obj["payment_id"], "payload": _event_json(event),
                }, ensure_ascii=False, separators=(",", ":")))
            else:
                rows.append(_event_json(event))
        if poison and day == b.first:
            bad = _poison_rows(day, enveloped)
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


def _poison_rows(day: dt.date, enveloped: bool) -> list[str]:
    """A line cut off mid-JSON, and a well-formed event missing most required fields."""
    stamp = f"{day.isoformat()}T10:00:00Z"
    not_json = ('{"event_id":"evt-poison-0001","event_type":"payment.sent","occurred_at":"'
                + stamp + '","payment_id":"PAY-POISON-1","amount":"12.5')
    incomplete = json.dumps({"event_id": "evt-poison-0002", "event_type": "payment.sent",
                             "occurred_at": stamp, "currency": CURRENCY}, separators=(",", ":"))
    if enveloped:
        incomplete = json.dumps({"topic": TOPIC, "partition": 0, "offset": 999999, "tstype": "create",
                                 "ts": 0, "key": None, "payload": incomplete}, separators=(",", ":"))
    return [not_json, incomplete]


def _truth(b: _Builder, seed: int, accounts: list[dict], statement_files: int,
           event_counts: dict[str, int], poison_files: int) -> dict[str, Any]:
    unset = [p.payment_id for p in b.payments if p.status is None]
    unset += [ln.bank_reference for ln in b.lines if ln.status is None]
    if unset:
        raise AssertionError(f"scenario items without an expected verdict: {unset[:5]}")

    def file_of(line: _Line) -> str:
        return _statement_name(line.account, line.booking_date)

    payments = sorted(b.payments, key=lambda p: (p.pay_cycle, p.payment_id))
    lines = sorted(b.lines, key=lambda ln: (ln.account.key, ln.booking_date, ln.bank_reference))
    links = sorted({(p.payment_id, ln.account.iban, ln.bank_reference)
                    for g in b.groups for p in g.payments for ln in g.lines})
    groups = sorted(b.groups, key=lambda g: (g.payments[0].payment_id if g.payments else "",
                                             min(ln.bank_reference for ln in g.lines)))
    return {
        "seed": seed,
        "start": b.first.isoformat(),
        "days": len(b.cycles),
        "last_cycle": b.last.isoformat(),
        "settlement_window_days": SETTLEMENT_WINDOW_DAYS,
        "timezone": b.timezone,
        "cutoff": b.cutoff.strftime("%H:%M"),
        "fee_tolerance": f"{FEE_TOLERANCE:f}",
        "accounts": accounts,
        "payments": [{
            "payment_id": p.payment_id,
            "kind": p.kind,
            "pay_cycle": p.pay_cycle.isoformat(),
            "account_iban": p.account.iban,
            "amount": f"{p.amount:f}",
            "currency": p.account.currency,
            "direction": p.direction,
            "end_to_end_id": p.end_to_end_id,
            "batch_id": p.batch_id,
            "expected_recon_status": p.status,
            "expected_exception_type": p.exception,
            "expected_payment_status": p.payment_status,
        } for p in payments],
        "bank_lines": [{
            "account_iban": ln.account.iban,
            "bank_reference": ln.bank_reference,
            "booking_date": ln.booking_date.isoformat(),
            "value_date": ln.value_date.isoformat(),
            "amount": f"{ln.amount:f}",
            "currency": ln.account.currency,
            "end_to_end_id": ln.end_to_end_id,
            "batch_id": ln.batch_id,
            "return_reason": ln.return_reason,
            "kind": ln.kind,
            "file": file_of(ln),
            "expected_recon_status": ln.status,
            "expected_exception_type": ln.exception,
        } for ln in lines],
        "links": [{"payment_id": pid, "account_iban": iban, "bank_reference": ref}
                  for pid, iban, ref in links],
        "match_groups": [{
            "kind": g.kind,
            "pay_cycle": max([p.pay_cycle for p in g.payments]
                             + [ln.booking_date for ln in g.lines]).isoformat(),
            "account_iban": g.lines[0].account.iban,
            "payment_ids": [p.payment_id for p in g.payments],
            "bank_references": [ln.bank_reference for ln in g.lines],
        } for g in groups],
        "counts": {
            "statement_files": statement_files,
            "bank_lines": len(b.lines),
            "payments": len(b.payments),
            **{k: v for k, v in event_counts.items() if k != "poison_events"},
        },
        "poison": {"events": event_counts["poison_events"], "statement_files": poison_files},
    }


# =========================================================================== command line
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m recon_pipeline.scenario.generator",
        description="Generate a deterministic reconciliation scenario (statements, events, truth.json).")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 11, 9),
                        help="first pay cycle, YYYY-MM-DD (default 2026-11-09)")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--per-day", type=int, default=20, dest="per_day")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--poison", action="store_true",
                        help="also write malformed events and a truncated statement file")
    parser.add_argument("--timezone", default="UTC", help="pay-cycle time zone (default UTC)")
    parser.add_argument("--cutoff", type=dt.time.fromisoformat, default=dt.time(0, 0),
                        help="pay-cycle cut-off HH:MM (default 00:00)")
    parser.add_argument("--kind", action="append", default=[], metavar="NAME=WEIGHT",
                        help=f"add a kind to the default mix (opt-in kinds: {', '.join(OPT_IN_KINDS)})")
    args = parser.parse_args(argv)
    try:
        kinds = None
        if args.kind:
            kinds = dict(DEFAULT_KIND_WEIGHTS)
            for item in args.kind:
                name, _, weight = item.partition("=")
                kinds[name] = float(weight or 1)
        scenario = generate_scenario(args.out_dir, args.start, days=args.days,
                                     payments_per_day=args.per_day, seed=args.seed,
                                     poison=args.poison, kinds=kinds, timezone=args.timezone,
                                     cutoff=args.cutoff)
    except (ValueError, OSError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    counts = scenario.truth["counts"]
    print(f"scenario {scenario.cycles[0]}..{scenario.last_cycle} seed {args.seed}: "
          f"{counts['payments']} payments, {counts['events']} events, "
          f"{counts['bank_lines']} bank lines in {counts['statement_files']} statement files")
    print(f"statements: {scenario.statements_dir}")
    print(f"events:     {scenario.events_dir}")
    print(f"truth:      {scenario.truth_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
