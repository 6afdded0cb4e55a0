"""Cut-off cases: payments sent within seconds of a pay-cycle boundary.

A pay cycle ends at a cut-off in a time zone (CONTRACT §2), not at UTC midnight. A payment
sent at 16:59:30 Amsterdam time on the cut-off day belongs to that cycle, one sent a minute
later to the next; code that takes the UTC date, or ignores the cut-off, files them in the
wrong cycle and the day's totals no longer agree with the bank. Opt-in, so default scenarios
stay as they were.
"""
from __future__ import annotations

import datetime as dt

from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.traps.spec import KindSpec


def cutoff_edge(b: Builder, day: dt.date) -> int:
    """Sent within 90 seconds of a cut-off: just after the one that opens its cycle (initiated
    just before it, in the cycle before) or just before the one that closes it. Booked by the
    bank on the cycle day; a cycle rule that ignores the cut-off or the time zone puts the
    payment in the wrong cycle. Opt-in (weight 0 in the default mix)."""
    p = b.payment("cutoff_edge", day, b.pick_account())
    after_open = day > b.first and b.rng.random() < 0.5
    if after_open:
        sent = b.cycle_start(day) + dt.timedelta(seconds=b.rng.randrange(0, 90))
    else:
        sent = b.cycle_end(day) - dt.timedelta(seconds=b.rng.randrange(1, 91))
    b.emit_at(p, "payment.initiated", sent - dt.timedelta(seconds=b.rng.randrange(120, 600)), "payments-api")
    b.emit_at(p, "payment.sent", sent, "payment-gateway")
    completed = sent + dt.timedelta(seconds=b.rng.randrange(300, 1800))
    if completed < b.cycle_end(b.last):
        b.emit_at(p, "payment.completed", completed, "ledger")
    b.settle("cutoff_edge", [p], [b.book_payment(p, day)])
    return 1


CUTOFF_EDGE = KindSpec("cutoff_edge", cutoff_edge, weight=0)
