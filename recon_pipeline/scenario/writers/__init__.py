"""Statement writers for the scenario generator: one module per bank format.

The generator describes a day's bookings once, in the format-neutral shapes below, and each
writer renders them the way a real bank would (camt.053 XML, MT940 text). Keeping the shapes
here, and not in either writer, means the two formats can never disagree about what was booked,
only about how it is spelled - which is exactly what the reconciler has to cope with.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Party:
    """A counterparty as the bank reports it."""

    name: str | None
    iban: str | None = None
    bic: str | None = None
    city: str | None = None


@dataclass(frozen=True)
class TxDetail:
    """One underlying transaction of a booked entry (camt ``TxDtls``)."""

    end_to_end_id: str | None            # None: the bank got no reference (camt NOTPROVIDED)
    amount: Decimal                      # positive; the direction is the parent entry's
    counterparty: Party | None = None
    remittance: str | None = None
    return_reason: str | None = None


@dataclass(frozen=True)
class Entry:
    """One booked statement line (camt ``Ntry``, MT940 ``:61:`` + ``:86:``)."""

    amount: Decimal                      # signed: credit +, debit -
    booking_date: dt.date
    value_date: dt.date
    bank_reference: str                  # camt AcctSvcrRef, MT940 // reference (max 16 chars)
    end_to_end_id: str | None = None     # as the bank reports it (possibly truncated)
    counterparty: Party | None = None
    remittance: str | None = None
    batch_id: str | None = None          # camt Btch/PmtInfId, MT940 /PREF/
    return_reason: str | None = None     # camt RtrInf/Rsn/Cd, MT940 /RTRN/
    domain_family: str = "ICDT"          # camt BkTxCd Fmly: ICDT (issued), RCDT (received)
    domain_sub_family: str = "ESCT"      # ESCT (SEPA credit transfer), RRTN (return), ...
    details: tuple[TxDetail, ...] = ()   # empty: the writer derives one from the entry itself
    customer_reference: str | None = None  # MT940 :61: reference; default: first 16 chars of
                                           # the end-to-end id, else the batch id, else NONREF

    @property
    def is_credit(self) -> bool:
        return self.amount >= 0


@dataclass(frozen=True)
class StatementDoc:
    """One daily statement for one account."""

    account_iban: str
    currency: str
    statement_date: dt.date
    sequence: int                        # camt ElctrncSeqNb, MT940 :28C: statement number
    opening_balance: Decimal
    entries: tuple[Entry, ...]
    account_bic: str | None = None
    # A statement too big for one message is sent in pages (camt MsgPgntn, MT940 :28C: n/page):
    # page 1 opens with the day's opening balance, the last closes the day; the balances between
    # pages are interim (camt ITBD, MT940 :60M:/:62M:).
    page: int = 1
    last_page: bool = True

    @property
    def movements(self) -> Decimal:
        return sum((e.amount for e in self.entries), Decimal("0.00"))

    @property
    def closing_balance(self) -> Decimal:
        return self.opening_balance + self.movements


def money(value: Decimal) -> str:
    """Two-decimal text of an absolute amount, never in exponent notation."""
    return f"{abs(value).quantize(Decimal('0.01')):f}"


__all__ = ["Entry", "Party", "StatementDoc", "TxDetail", "money"]
