"""Split settlement: one payment, booked by the bank as two lines that add up to it.

Banks split a transfer across clearing runs or book a large amount in parts. Both lines carry
the payment's reference; a reconciler that expects one line per payment calls the first an
amount mismatch and the second a duplicate, when together they are one 1:N match.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.config import CENT
from recon_pipeline.scenario.traps.spec import KindSpec


def split(b: Builder, day: dt.date) -> int:
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


SPLIT = KindSpec("split", split, weight=3)
