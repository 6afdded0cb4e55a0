"""Late settlement: the bank books a payment a day or two after we sent it.

Real transfers cross a weekend, a holiday or a batch run at the receiving bank; the booking
date moves, the value date does not. A reconciler that only pairs same-day items, or that
flags everything open at the end of a cycle, gets these wrong.
"""
from __future__ import annotations

import datetime as dt

from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.traps.spec import KindSpec


def late_settlement(b: Builder, day: dt.date) -> int:
    """Booked one or two days after it was sent (value-dated back to the pay day): the
    payment is open for a cycle or two and must then match inside the window."""
    lag = b.rng.randint(1, min(2, b.days_left(day)))
    p = b.payment("late_settlement", day, b.pick_account())
    b.lifecycle(p)
    line = b.book_payment(p, day + dt.timedelta(days=lag), value_date=day)
    b.settle("late_settlement", [p], [line])
    return 1


LATE_SETTLEMENT = KindSpec("late_settlement", late_settlement, weight=6, span=1)
