"""A fee taken in flight, and its counterpart: an amount that is really wrong.

Correspondent and receiving banks deduct charges from incoming transfers (and add them to
outgoing ones), so the booked amount is a little off while the reference is right. That is
normal and must not drown the review queue; an amount that is off by more than the fee
tolerance is a genuine break. The two kinds sit on either side of ``FEE_TOLERANCE``.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.config import CENT, FEE_TOLERANCE
from recon_pipeline.scenario.traps.spec import KindSpec


def fee(b: Builder, day: dt.date) -> int:
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


def amount_mismatch(b: Builder, day: dt.date) -> int:
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


FEE = KindSpec("fee", fee, weight=5)
AMOUNT_MISMATCH = KindSpec("amount_mismatch", amount_mismatch, weight=3)
