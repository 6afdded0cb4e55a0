"""Status mismatch: our books say the payment failed, the bank debited it anyway.

The gateway times out and reports a failure while the bank had already accepted the
transfer. The reference and amount match perfectly, so a matcher that looks only at money
sees nothing wrong; the exposure is that our books say the money is still here.
"""
from __future__ import annotations

import datetime as dt

from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.traps.spec import KindSpec


def status_mismatch(b: Builder, day: dt.date) -> int:
    """We think the payment failed, the bank debited it anyway: linked, and both sides are
    an exception because the money left while our books say it did not."""
    p = b.payment("status_mismatch", day, b.pick_account(), direction="outgoing")
    b.lifecycle(p, fail=True)
    b.settle("status_mismatch", [p], [b.book_payment(p, day)], "exception", "status_mismatch")
    return 1


STATUS_MISMATCH = KindSpec("status_mismatch", status_mismatch, weight=2)
