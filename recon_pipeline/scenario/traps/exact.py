"""The control case, not a trap: what most of a real day looks like.

Every other kind is measured against it; a reconciler that cannot match these has no business
with the rest, and they are the background in which the traps hide.
"""
from __future__ import annotations

import datetime as dt

from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.traps.spec import KindSpec


def exact(b: Builder, day: dt.date) -> int:
    """The everyday case: one payment, one line, same reference, amount and day."""
    p = b.payment("exact", day, b.pick_account())
    b.lifecycle(p)
    b.settle("exact", [p], [b.book_payment(p, day)])
    return 1


EXACT = KindSpec("exact", exact, weight=40)
