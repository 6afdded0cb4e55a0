"""One side only: payments that never arrived at the bank, bank lines nobody here knows.

A payment can get stuck (a rejected file, a sanctions hold, a gateway that said ``sent`` and
was wrong) and the bank books money we never initiated (a customer paying without being
asked, a direct debit we did not record). Both are invisible until someone looks for the
counterpart that is not there; they must stay in flight for the settlement window and then
become exceptions, not vanish and not alarm on day one.
"""
from __future__ import annotations

import datetime as dt

from recon_pipeline.scenario.accounts import STRANGERS
from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.traps.spec import KindSpec


def missing_in_bank(b: Builder, day: dt.date) -> int:
    """A payment the bank never books: in flight for the settlement window, then an
    exception. Half of them are completed internally - that is the exposure."""
    p = b.payment("missing_in_bank", day, b.pick_account())
    b.lifecycle(p, complete=b.rng.random() < 0.5)
    b.leave_open(p, day, "missing_in_bank")
    return 1


def missing_in_books(b: Builder, day: dt.date) -> int:
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


MISSING_IN_BANK = KindSpec("missing_in_bank", missing_in_bank, weight=3, ages=True)
MISSING_IN_BOOKS = KindSpec("missing_in_books", missing_in_books, weight=3, ages=True)
