"""Duplicates, real and apparent: one payment booked twice, two payments that look alike.

Banks do book the same transfer twice (a replayed file, a manual re-entry); the second
booking is money that left for nothing and must be caught. The opposite mistake costs as much:
two genuine payments to the same supplier for the same amount on the same day (two invoices
of one price) are not duplicates, and only their end-to-end ids tell which line is which.
"""
from __future__ import annotations

import datetime as dt

from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.traps.spec import KindSpec


def duplicate_booking(b: Builder, day: dt.date) -> int:
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


def business_duplicates(b: Builder, day: dt.date) -> int:
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


DUPLICATE_BOOKING = KindSpec("duplicate_booking", duplicate_booking, weight=2)
BUSINESS_DUPLICATES = KindSpec("business_duplicates", business_duplicates, weight=2)
