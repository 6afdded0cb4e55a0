"""The builder: the small vocabulary every trap is written in, and the pay-cycle clock.

A trap says what happens (a payment is sent, the bank books it two days later, the verdict
is a fee); the builder turns that into concrete payments, events and bank lines, drawing every
choice from the one seeded random stream so the same seed gives the same scenario. It also
owns the rules that keep the answer key honest: amounts are unique (so no accidental ties),
event times keep clear of cycle edges (so the truth never asks the code under test which
cycle an instant is in), and ``open_verdict`` ages items without a counterpart.
"""
from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from recon_pipeline.scenario.accounts import ACCOUNTS, COUNTERPARTIES, Account, Counterparty
from recon_pipeline.scenario.config import CENT, SETTLEMENT_WINDOW_DAYS, UTC
from recon_pipeline.scenario.model import Event, Group, Line, Payment
from recon_pipeline.scenario.writers import Party

# Producers that stamp local time write Amsterdam winter time (+01:00).
AMSTERDAM_WINTER = dt.timezone(dt.timedelta(hours=1))

# Amounts are unique, drawn from bands holding ~8 million cent values; the traps that look for
# a free amount near another (split parts, fees) retry until they find one. Past ~190,000
# payments those neighbourhoods fill up (a split then retried forever), so past this many the
# bands widen in proportion to the volume; scenarios up to it are drawn exactly as before.
AMOUNT_ROOM_PAYMENTS = 100_000
PAYMENTS_PER_BAND_SCALE = 25_000
MAX_REFUSED_AMOUNTS = 100_000


def amount_scale(payments: int) -> int:
    """How much wider than usual the amount bands are for a scenario of this many payments."""
    return 1 if payments <= AMOUNT_ROOM_PAYMENTS else -(-payments // PAYMENTS_PER_BAND_SCALE)


class Builder:
    """Holds the scenario being built; the traps (``scenario/traps/``) call its small vocabulary."""

    ORDER_SPACE = 10**9

    def __init__(self, rng: random.Random, cycles: Sequence[dt.date], timezone: str = "UTC",
                 cutoff: dt.time = dt.time(0, 0), amount_scale: int = 1):
        self.rng = rng
        self.amount_scale = amount_scale
        self.timezone = timezone
        self.cutoff = cutoff
        self.cycles = list(cycles)
        self.first = self.cycles[0]
        self.last = self.cycles[-1]
        self.payments: list[Payment] = []
        self.lines: list[Line] = []
        self.groups: list[Group] = []
        self._amounts: set[Decimal] = set()     # membership only, never iterated
        self._refused = 0                        # claims refused in a row
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
            lo, hi = (edge * self.amount_scale for edge in self.rng.choices(bands, weights=(3, 5, 4, 1))[0])
            lo = max(lo, floor)
            if hi <= lo:
                hi = lo * 10
            value = Decimal(self.rng.randrange(lo, hi)) * CENT
            if self.reserve(value):
                return value

    def reserve(self, value: Decimal) -> bool:
        """Claim an (absolute) amount; False when something already uses it.

        The traps draw again until a claim succeeds; a long run of refusals means the bands are
        full, and stops the generator with that reason instead of spinning forever."""
        value = abs(value)
        if value in self._amounts:
            self._refused += 1
            if self._refused > MAX_REFUSED_AMOUNTS:
                raise RuntimeError(f"no free amount found in {MAX_REFUSED_AMOUNTS:,} draws: the amount bands are "
                                   f"full ({len(self._amounts):,} amounts, scale {self.amount_scale})")
            return False
        self._refused = 0
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
                batch_id: str | None = None, remittance: str | None = None) -> Payment:
        """A new payment sent on ``day``. Its end-to-end id is longer than the 16 characters
        MT940 keeps, but unique in its first 16, as a real payment factory's would be."""
        seq = self._payment_seq.get(day, 0) + 1
        self._payment_seq[day] = seq
        if day not in self._e2e_base:
            self._e2e_base[day] = self.rng.randrange(10000, 50000)
        e2e_number = self._e2e_base[day] + seq
        cp = counterparty or self.pick_counterparty()
        p = Payment(
            payment_id=f"PAY-{day:%Y%m%d}-{seq:05d}",
            kind=kind,
            account=account,
            direction=direction or self.pick_direction(),
            amount=amount if amount is not None else self.amount(),
            end_to_end_id=f"E2E-{day:%y%m%d}-{_five_characters(e2e_number)}-{cp.tag}",
            batch_id=batch_id,
            counterparty=cp,
            remittance=remittance or self.remittance(day),
            pay_cycle=day,
        )
        self.payments.append(p)
        return p

    def new_batch_id(self, day: dt.date) -> str:
        """16 characters, so MT940's :61: reference carries it whole: ``BATCH-yymmdd-NNN`` for a
        day's first 999 batches, ``B-yymmdd-`` and the number in base 36 beyond (bank volumes)."""
        n = self._batch_seq.get(day, 0) + 1
        self._batch_seq[day] = n
        if n <= 999:
            return f"BATCH-{day:%y%m%d}-{n:03d}"
        return f"B-{day:%y%m%d}-{_base36(n):0>7}"

    def lifecycle(self, p: Payment, *, complete: bool = True, fail: bool = False,
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

    def emit(self, p: Payment, event_type: str, day: dt.date, hour_from: int, hour_to: int,
             service: str, *, return_reason: str | None = None) -> None:
        """An event ``hour_from``..``hour_to`` hours into cycle ``day`` (never near its edges)."""
        seconds = self.rng.randrange(hour_from * 3600, hour_to * 3600)
        self.emit_at(p, event_type, self.cycle_start(day) + dt.timedelta(seconds=seconds), service,
                     return_reason=return_reason)

    def emit_at(self, p: Payment, event_type: str, at: dt.datetime, service: str, *,
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
        p.events.append(Event(at, obj))

    # ----------------------------------------------------------------- bank lines
    def book(self, account: Account, day: dt.date, amount: Decimal, kind: str, *,
             end_to_end_id: str | None, counterparty: Party | None, remittance: str | None,
             value_date: dt.date | None = None, after: Line | None = None,
             **extra: Any) -> Line:
        """A line the bank books on ``day``; ``after`` forces it later in the statement."""
        if after is not None and after.booking_date == day:
            order = self.rng.randrange(after.order + 1, after.order + 2 + self.ORDER_SPACE // 10)
        else:
            order = self.rng.randrange(self.ORDER_SPACE)
        line = Line(account=account, kind=kind, booking_date=day, value_date=value_date or day,
                     amount=amount, end_to_end_id=end_to_end_id, counterparty=counterparty,
                     remittance=remittance, order=order, seq=len(self.lines), **extra)
        self.lines.append(line)
        return line

    def book_payment(self, p: Payment, day: dt.date, *, amount: Decimal | None = None,
                     end_to_end_id: str | None | bool = True, kind: str | None = None,
                     **extra: Any) -> Line:
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
    def settle(self, kind: str, payments: list[Payment], lines: list[Line],
               status: str = "matched", exception: str | None = None) -> Group:
        """Record one expected match group and give every member the same verdict."""
        for item in (*payments, *lines):
            item.status, item.exception = status, exception
        group = Group(kind, payments, lines)
        self.groups.append(group)
        return group

    def leave_open(self, item: Payment | Line, cycle: dt.date, exception: str) -> None:
        item.status, item.exception = open_verdict(self.last, cycle, exception)


def open_verdict(last: dt.date, cycle: dt.date, exception: str) -> tuple[str, str | None]:
    """An item with no counterpart: in flight while younger than the settlement window, an
    exception from the window on (age >= 3). Age is whole days between its cycle and the last cycle."""
    age = (last - cycle).days
    if age >= SETTLEMENT_WINDOW_DAYS:
        return "exception", exception
    return "unmatched", None


def _base36(n: int) -> str:
    digits = ""
    while n:
        n, d = divmod(n, 36)
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[d] + digits
    return digits or "0"


def _five_characters(n: int) -> str:
    """A day's payment number in five characters: decimal up to 99,999 (every scenario so far),
    then a letter and four base-36 digits, so end-to-end ids stay unique in the 16 characters
    MT940 keeps at a bank's volume (up to ~1.7 million payments a day)."""
    if n <= 99999:
        return f"{n:05d}"
    n -= 100000
    if n >= 26 * 36 ** 4:
        raise ValueError("too many payments on one day for 16-character end-to-end prefixes")
    head, tail = divmod(n, 36 ** 4)
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[head] + f"{_base36(tail):0>4}"

