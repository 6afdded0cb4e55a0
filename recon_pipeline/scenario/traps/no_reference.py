"""No reference: the bank line carries no end-to-end id at all.

Plenty of banks, and plenty of payers, drop the reference along the way (camt.053 says
NOTPROVIDED, MT940 has no /EREF/). The line can still be matched on amount, booking day and
counterparty name when exactly one open payment fits; the names are chosen so that every
statement format spells them identically, so the trap tests the matching, not the folding.
"""
from __future__ import annotations

import datetime as dt

from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.traps.spec import KindSpec


def no_reference(b: Builder, day: dt.date) -> int:
    """The bank line carries no end-to-end id (camt NOTPROVIDED, MT940 no /EREF/); amount,
    booking day and counterparty name single out exactly one open payment. Names are chosen
    so that every format spells them identically, and amounts are unique in the scenario."""
    p = b.payment("no_reference", day, b.pick_account(), counterparty=b.pick_counterparty(plain=True))
    b.lifecycle(p)
    line = b.book_payment(p, day, end_to_end_id=None)
    line.remittance = "TRANSFER"
    b.settle("no_reference", [p], [line])
    return 1


NO_REFERENCE = KindSpec("no_reference", no_reference, weight=3)
