"""The format-independent shape of a parsed bank statement.

Every parser (camt, MT940, BAI2, CSV profiles, OFX) returns these objects and nothing else,
so the loader, the integrity gates and ``recon inspect`` never care which format a bank sent.
Amounts are ``Decimal`` and signed from our point of view: credit +, debit −.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# A parser that can read a line's amount but not when it was booked (a date not on the
# calendar) keeps the line with ``extra[UNREADABLE] = reason``: the loader quarantines that
# line alone, with the reason, and loads the rest of the statement.
UNREADABLE = "unreadable"

# The biggest statement file recon takes: parsers hold a file in memory (XML several times its
# size), and no bank sends one account-day this big (64 MiB is ~200,000 camt entries). Larger
# files are refused at the door (SFTP) or quarantined unread (loader), named, with a reason.
MAX_STATEMENT_BYTES = 64 * 1024 * 1024


class StatementParseError(ValueError):
    """The file cannot be parsed. ``str(error)`` is the one-line reason shown to users."""

    def __init__(self, reason: str):
        super().__init__(" ".join(str(reason).split()))


@dataclass(frozen=True)
class LineDetail:
    """One underlying transaction of a booked entry (camt ``TxDtls``), e.g. one payment of a batch."""

    end_to_end_id: str | None = None
    amount: Decimal | None = None          # signed like the parent line; None when the bank omits it
    currency: str | None = None
    instruction_id: str | None = None
    payment_info_id: str | None = None     # camt PmtInfId: the batch reference we handed over
    uetr: str | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    remittance_info: str | None = None
    return_reason: str | None = None


@dataclass(frozen=True)
class StatementLine:
    """One booked entry as the bank reports it (camt ``Ntry``, MT940 ``:61:``, BAI2 ``16``, a CSV row)."""

    amount: Decimal                        # signed: credit +, debit −
    currency: str
    booking_date: dt.date | None
    value_date: dt.date | None = None
    bank_reference: str | None = None      # camt AcctSvcrRef, MT940 // reference, BAI2 bank reference
    customer_reference: str | None = None  # MT940 reference for the account owner, BAI2 customer ref
    end_to_end_id: str | None = None       # when the entry carries exactly one (or MT940 /EREF/)
    batch_id: str | None = None            # camt Btch PmtInfId / MsgId, MT940 /PREF/
    batch_count: int | None = None         # camt Btch NbOfTxs
    return_reason: str | None = None       # camt RtrInf/Rsn/Cd, MT940 /RTRN/
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    remittance_info: str | None = None
    transaction_code: str | None = None    # camt BkTxCd, MT940 GVC / type code, BAI2 type code
    is_reversal: bool = False
    status: str = "BOOK"                   # BOOK, PDNG, INFO
    details: tuple[LineDetail, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Statement:
    """One statement (or report/notification) for one account."""

    account: str
    currency: str
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    opening_date: dt.date | None = None
    closing_date: dt.date | None = None
    statement_id: str | None = None
    sequence: str | None = None
    # The page of a statement sent in several messages (camt MsgPgntn/PgNb, MT940 :28C: n/page):
    # the pages of one day share their dates, and this is their order (None: not said).
    page: int | None = None
    lines: list[StatementLine] = field(default_factory=list)
    # Control totals the format itself carries (camt TxsSummry, BAI2 trailers), checked by the gates.
    control_entry_count: int | None = None
    control_sum: Decimal | None = None     # net signed sum when the format gives one
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def movements(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.status == "BOOK"), Decimal("0"))

    @property
    def balanced(self) -> bool | None:
        """opening + movements = closing; ``None`` when either balance is missing."""
        gap = balance_gap(self.opening_balance, self.movements, self.closing_balance)
        return None if gap is None else gap == 0


@dataclass
class ParsedFile:
    format: str                            # e.g. "camt.053.001.08", "MT940", "BAI2", "CSV:generic"
    statements: list[Statement]
    warnings: list[str] = field(default_factory=list)

    @property
    def line_count(self) -> int:
        return sum(len(s.lines) for s in self.statements)


def balance_gap(opening: Decimal | None, movements: Decimal, closing: Decimal | None) -> Decimal | None:
    """The statement balance proof: closing − (opening + movements), zero when it holds;
    ``None`` when either balance is missing (nothing to prove). The one place it is computed:
    the parsed statement, its integrity finding and the input gate's evidence all call it."""
    if opening is None or closing is None:
        return None
    return closing - (opening + movements)
