"""Bank statements: one file per account per day, in the format each account's bank sends.

Banks hand out their own references in booking order and chain each statement's opening
balance to the previous closing; a scenario that did neither would let a parser or a balance
check pass that fails on real files. The format itself is the writers' job
(``scenario/writers/``); this module decides which lines go in which file, in which order.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from recon_pipeline.scenario.accounts import ACCOUNTS, Account
from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.config import CENT
from recon_pipeline.scenario.model import Line
from recon_pipeline.scenario.writers import StatementDoc
from recon_pipeline.scenario.writers.camt053 import write_camt053
from recon_pipeline.scenario.writers.mt940 import write_mt940


def assign_bank_references(b: Builder) -> None:
    """Banks number their postings in booking order, so references are handed out last,
    per account, in statement order."""
    for account in ACCOUNTS:
        number = b.rng.randrange(100000, 900000)
        for line in statement_order(b, account):
            number += b.rng.randint(1, 7)          # other customers' postings in between
            if account.format == "camt053":
                line.bank_reference = f"{line.booking_date:%Y%m%d}{number:08d}"
            else:
                line.bank_reference = f"{line.booking_date:%y%m%d}{number:08d}"


def statement_order(b: Builder, account: Account) -> list[Line]:
    """An account's lines as its statements list them: by booking day, then the seeded order."""
    lines = [ln for ln in b.lines if ln.account is account]
    return sorted(lines, key=lambda ln: (ln.booking_date, ln.order, ln.seq))


def statement_name(account: Account, day: dt.date) -> str:
    """The file a day's statement is written to (the truth names it for every bank line)."""
    return f"{account.iban}_{day.isoformat()}.{account.extension}"


def write_statements(b: Builder, statements_dir: Path) -> tuple[list[dict], int, bytes]:
    """One statement per account per calendar day; each opening is the previous closing."""
    accounts = []
    files = 0
    first_camt = b""
    for account in ACCOUNTS:
        per_day: dict[dt.date, list[Line]] = {day: [] for day in b.cycles}
        for line in statement_order(b, account):
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
            (statements_dir / statement_name(account, day)).write_bytes(data)
            files += 1
            if account.format == "camt053" and not first_camt:
                first_camt = data
            opening = doc.closing_balance
        accounts.append({"iban": account.iban, "format": account.format, "currency": account.currency,
                         "bic": account.bic, "opening_balance": f"{first_opening:f}",
                         "closing_balance": f"{opening:f}"})
    return accounts, files, first_camt
