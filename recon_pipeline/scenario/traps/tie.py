"""Ambiguous ties: one bank line, two payments that fit it equally well.

Without a reference, amount and name are all a matcher has; when two open payments share
them, any pick is a guess, and a guess that happens to be right today is wrong tomorrow. The
only honest answer is to link nothing and ask a person (``ambiguous_match``). Opt-in, so
default scenarios stay as they were.
"""
from __future__ import annotations

import datetime as dt

from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.traps.spec import KindSpec


def tie(b: Builder, day: dt.date) -> int:
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


TIE = KindSpec("tie", tie, weight=0, ages=True)
