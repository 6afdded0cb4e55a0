"""Truncated references: the bank keeps only the first 16 characters of our end-to-end id.

MT940's :61: reference field holds 16 characters, and some banks cut the /EREF/ in :86: to
the same length. Our payment factory's ids are longer, so an exact-reference matcher finds
nothing; only a prefix match, confirmed by the amount, does.
"""
from __future__ import annotations

import datetime as dt

from recon_pipeline.scenario.accounts import ACCOUNT_B
from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.traps.spec import KindSpec


def truncated_ref(b: Builder, day: dt.date) -> int:
    """MT940 bank that cuts our end-to-end id to 16 characters in /EREF/ as well as in the
    :61: reference: only a prefix match (confirmed by amount) finds the payment."""
    p = b.payment("truncated_ref", day, ACCOUNT_B)
    b.lifecycle(p)
    b.settle("truncated_ref", [p], [b.book_payment(p, day, end_to_end_id=p.end_to_end_id[:16])])
    return 1


TRUNCATED_REF = KindSpec("truncated_ref", truncated_ref, weight=4)
