"""Returns with reason codes: money that went out and came back.

A beneficiary bank rejects a credit transfer after settlement (closed account, wrong IBAN,
refused by the customer) and sends the money back days later with an ISO 20022 reason code.
The return credit belongs to the original payment, not to the books as a stranger; a reason
recon is configured to know closes the case, an unknown one needs a person to read it.
"""
from __future__ import annotations

import datetime as dt

from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.model import Line, Payment
from recon_pipeline.scenario.traps.spec import KindSpec

# The return-reason codes recon is configured to know; anything else is an exception.
KNOWN_RETURN_REASONS = ("AC01", "AC04", "AC06", "AG01", "AM04", "MD07", "MS02", "MS03",
                        "RC01", "RR04", "BE04", "FF01")
UNKNOWN_RETURN_REASONS = ("X123", "ZZ99", "XT77")


def _returned(b: Builder, day: dt.date, kind: str, reason: str) -> tuple[Payment, Line, Line]:
    """An outgoing payment debited on its pay day and credited back 1-2 days later."""
    returned_on = day + dt.timedelta(days=b.rng.randint(1, min(2, b.days_left(day))))
    p = b.payment(kind, day, b.pick_account(), direction="outgoing")
    b.lifecycle(p, return_on=returned_on, return_reason=reason)
    debit = b.book_payment(p, day)
    credit = b.book(p.account, returned_on, p.amount, kind, end_to_end_id=p.end_to_end_id,
                    counterparty=p.counterparty.party(), remittance=f"RETURN {p.remittance}",
                    return_reason=reason, family="ICDT", sub_family="RRTN")
    return p, debit, credit


def return_known(b: Builder, day: dt.date) -> int:
    """A return with a reason code recon knows: both the debit and the return credit belong
    to the payment (two match groups: the debit matches on the pay day, the return when it
    arrives); the payment ends ``returned`` and nothing needs review."""
    p, debit, credit = _returned(b, day, "return_known", b.rng.choice(KNOWN_RETURN_REASONS))
    b.settle("return_known", [p], [debit])
    b.settle("return_known", [p], [credit])
    return 1


def return_unknown(b: Builder, day: dt.date) -> int:
    """A return whose reason code is not configured: still linked to its payment, but the
    return (and so the payment) is an exception someone must read; the debit stays matched."""
    p, debit, credit = _returned(b, day, "return_unknown", b.rng.choice(UNKNOWN_RETURN_REASONS))
    b.settle("return_unknown", [p], [debit])
    b.settle("return_unknown", [p], [credit], "exception", "unknown_return_reason")
    return 1


RETURN_KNOWN = KindSpec("return_known", return_known, weight=3, span=1)
RETURN_UNKNOWN = KindSpec("return_unknown", return_unknown, weight=2, span=1)
