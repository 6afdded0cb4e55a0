"""The answer key, ``truth.json``: what a perfect reconciler must conclude.

Items are judged as of the last cycle ``L``; an item with no counterpart whose age
``(L - item_cycle).days`` has reached the settlement window (age >= 3, CONTRACT §2) is an
exception (``missing_in_bank`` / ``missing_in_books``), otherwise ``unmatched``
(``builder.open_verdict``). A payment's cycle is the pay cycle of its ``payment.sent`` event
in the scenario's time zone and cut-off (CONTRACT §2: cycle D runs from the cut-off on D-1 up
to the cut-off on D; with the default UTC and 00:00 it is the UTC day); a bank line's is its
booking date. The verdicts were set by the traps while they planted the data; this module
only checks that none is missing and writes them down in a stable order.
"""
from __future__ import annotations

from typing import Any

from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.config import FEE_TOLERANCE, SETTLEMENT_WINDOW_DAYS
from recon_pipeline.scenario.model import Line
from recon_pipeline.scenario.statements import statement_name


def build_truth(b: Builder, seed: int, accounts: list[dict], statement_files: int,
                event_counts: dict[str, int], poison_files: int) -> dict[str, Any]:
    """The answer key as JSON-ready data. An item a trap left without a verdict is a bug in
    the trap, so it fails here rather than ship a truth that judges nothing."""
    unset = [p.payment_id for p in b.payments if p.status is None]
    unset += [ln.bank_reference for ln in b.lines if ln.status is None]
    if unset:
        raise AssertionError(f"scenario items without an expected verdict: {unset[:5]}")

    def file_of(line: Line) -> str:
        return line.statement_file or statement_name(line.account, line.booking_date)

    payments = sorted(b.payments, key=lambda p: (p.pay_cycle, p.payment_id))
    lines = sorted(b.lines, key=lambda ln: (ln.account.key, ln.booking_date, ln.bank_reference))
    links = sorted({(p.payment_id, ln.account.iban, ln.bank_reference)
                    for g in b.groups for p in g.payments for ln in g.lines})
    groups = sorted(b.groups, key=lambda g: (g.payments[0].payment_id if g.payments else "",
                                             min(ln.bank_reference for ln in g.lines)))
    return {
        "seed": seed,
        "start": b.first.isoformat(),
        "days": len(b.cycles),
        "last_cycle": b.last.isoformat(),
        "settlement_window_days": SETTLEMENT_WINDOW_DAYS,
        "timezone": b.timezone,
        "cutoff": b.cutoff.strftime("%H:%M"),
        "fee_tolerance": f"{FEE_TOLERANCE:f}",
        "accounts": accounts,
        "payments": [{
            "payment_id": p.payment_id,
            "kind": p.kind,
            "pay_cycle": p.pay_cycle.isoformat(),
            "account_iban": p.account.iban,
            "amount": f"{p.amount:f}",
            "currency": p.account.currency,
            "direction": p.direction,
            "end_to_end_id": p.end_to_end_id,
            "batch_id": p.batch_id,
            "expected_recon_status": p.status,
            "expected_exception_type": p.exception,
            "expected_payment_status": p.payment_status,
        } for p in payments],
        "bank_lines": [{
            "account_iban": ln.account.iban,
            "bank_reference": ln.bank_reference,
            "booking_date": ln.booking_date.isoformat(),
            "value_date": ln.value_date.isoformat(),
            "amount": f"{ln.amount:f}",
            "currency": ln.account.currency,
            "end_to_end_id": ln.end_to_end_id,
            "batch_id": ln.batch_id,
            "return_reason": ln.return_reason,
            "kind": ln.kind,
            "file": file_of(ln),
            "expected_recon_status": ln.status,
            "expected_exception_type": ln.exception,
        } for ln in lines],
        "links": [{"payment_id": pid, "account_iban": iban, "bank_reference": ref}
                  for pid, iban, ref in links],
        "match_groups": [{
            "kind": g.kind,
            "pay_cycle": max([p.pay_cycle for p in g.payments]
                             + [ln.booking_date for ln in g.lines]).isoformat(),
            "account_iban": g.lines[0].account.iban,
            "payment_ids": [p.payment_id for p in g.payments],
            "bank_references": [ln.bank_reference for ln in g.lines],
        } for g in groups],
        "counts": {
            "statement_files": statement_files,
            "bank_lines": len(b.lines),
            "payments": len(b.payments),
            **{k: v for k, v in event_counts.items() if k != "poison_events"},
        },
        "poison": {"events": event_counts["poison_events"], "statement_files": poison_files},
    }
