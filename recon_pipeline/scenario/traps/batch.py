"""Batches booked as one line: several payments, one debit for their sum.

Payment factories hand payments over in batches and many banks book a batch as a single
statement line. Nothing on that line carries an individual payment's reference (MT940 keeps
only the batch id; camt.053 may list the parts in TxDtls), so only an N:1 match on the batch
finds them. And banks do reject single members of a batch: then the sum no longer adds up
to the whole batch.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from recon_pipeline.scenario.accounts import ACCOUNT_A, COUNTERPARTIES, Account
from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.model import Line, Payment
from recon_pipeline.scenario.traps.spec import KindSpec
from recon_pipeline.scenario.writers import TxDetail


def _batch_line(b: Builder, day: dt.date, account: Account, batch_id: str,
                members: list[Payment], kind: str) -> Line:
    """One debit for several payments: camt lists each in TxDtls, MT940 only the batch id."""
    details = tuple(TxDetail(end_to_end_id=p.end_to_end_id, amount=p.amount,
                             counterparty=p.counterparty.party(), remittance=p.remittance)
                    for p in members)
    total = sum((p.amount for p in members), Decimal("0"))
    b.reserve(total)
    return b.book(account, day, -total, kind, end_to_end_id=None, counterparty=None,
                  remittance=None, batch_id=batch_id, details=details)


def batch(b: Builder, day: dt.date) -> int:
    """3-5 outgoing payments handed over as one batch and booked as one line for their sum:
    an N:1 match that only the batch id (and, in camt, the TxDtls) can make."""
    account = b.pick_account()
    batch_id = b.new_batch_id(day)
    members = []
    for cp in b.rng.sample(COUNTERPARTIES, b.rng.randint(3, 5)):
        p = b.payment("batch", day, account, direction="outgoing", counterparty=cp,
                      batch_id=batch_id)
        b.lifecycle(p)
        members.append(p)
    b.settle("batch", members, [_batch_line(b, day, account, batch_id, members, "batch")])
    return len(members)


def partial_batch(b: Builder, day: dt.date) -> int:
    """A batch of 5 of which the bank executed only 4: the 4 match as a group, the fifth
    stays open and ages like any payment the bank never booked. camt only (MT940 would not
    say which four)."""
    batch_id = b.new_batch_id(day)
    members = []
    for cp in b.rng.sample(COUNTERPARTIES, 5):
        p = b.payment("partial_batch", day, ACCOUNT_A, direction="outgoing", counterparty=cp,
                      batch_id=batch_id)
        b.lifecycle(p)
        members.append(p)
    left_out = members.pop(b.rng.randrange(5))
    b.settle("partial_batch", members,
             [_batch_line(b, day, ACCOUNT_A, batch_id, members, "partial_batch")])
    b.leave_open(left_out, day, "missing_in_bank")
    return 5


BATCH = KindSpec("batch", batch, weight=3)
PARTIAL_BATCH = KindSpec("partial_batch", partial_batch, weight=1.5, ages=True)
