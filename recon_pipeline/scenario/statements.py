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


# Entries per message: a bank splits a bigger day into pages, each a file of its own (a camt
# page of 25,000 entries is ~45 MB, under recon's 64 MiB cap for one statement file).
PAGE_ENTRIES = 25_000


def statement_name(account: Account, day: dt.date, page: int | None = None) -> str:
    """The file a day's statement (or its ``page``, when paginated) is written to (the truth
    names it for every bank line)."""
    suffix = "" if page is None else f"_p{page:03d}"
    return f"{account.iban}_{day.isoformat()}{suffix}.{account.extension}"


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
            day_lines = per_day[day]
            pages = [day_lines[i:i + PAGE_ENTRIES] for i in range(0, len(day_lines), PAGE_ENTRIES)] or [[]]
            for number, page_lines in enumerate(pages, start=1):
                doc = StatementDoc(
                    account_iban=account.iban, currency=account.currency, statement_date=day,
                    sequence=day.timetuple().tm_yday, opening_balance=opening,
                    entries=tuple(line.entry() for line in page_lines),
                    account_bic=account.bic, page=number, last_page=number == len(pages))
                data = write_camt053(doc) if account.format == "camt053" else write_mt940(doc)
                name = statement_name(account, day, number if len(pages) > 1 else None)
                (statements_dir / name).write_bytes(data)
                for line in page_lines:
                    line.statement_file = name
                files += 1
                if account.format == "camt053" and not first_camt:
                    first_camt = data
                opening = doc.closing_balance
        accounts.append({"iban": account.iban, "format": account.format, "currency": account.currency,
                         "bic": account.bic, "opening_balance": f"{first_opening:f}",
                         "closing_balance": f"{opening:f}"})
    return accounts, files, first_camt
