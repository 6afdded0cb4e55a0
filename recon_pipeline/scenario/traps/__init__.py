"""The traps a generated scenario plants, one module per trap or small family of traps.

Each trap models a way real bank data differs from what our books say, and builds payments,
bank lines and their expected verdicts through the builder's vocabulary
(``scenario/builder.py``):

==================== ============================================================
``exact``            the control case: one payment, one line, all equal
``late_settlement``  booked a day or two after it was sent
``fee``              a fee taken in flight (``fee``), or a real ``amount_mismatch``
``batch``            a batch booked as one line (``batch``, ``partial_batch``)
``split``            one payment booked as two lines
``returns``          returns with a known or an unknown reason code
``truncated_ref``    MT940 cuts the end-to-end id to 16 characters
``missing``          payments that never arrived, bank lines nobody knows
``duplicates``       a payment booked twice, two payments that look alike
``status_mismatch``  failed in our books, debited by the bank
``no_reference``     a line without a reference, matched on amount and name
``cutoff_edge``      sent seconds from a pay-cycle cut-off (opt-in)
``tie``              one line, two equally good payments (opt-in)
``poison``           malformed events and a truncated statement (``poison=True``)
==================== ============================================================

``TRAPS`` is the registry, and its order is part of the output: the planner walks the kinds
in this order drawing from one random stream, so reordering it changes every scenario.
"""
from __future__ import annotations

from recon_pipeline.scenario.traps.batch import BATCH, PARTIAL_BATCH
from recon_pipeline.scenario.traps.cutoff_edge import CUTOFF_EDGE
from recon_pipeline.scenario.traps.duplicates import BUSINESS_DUPLICATES, DUPLICATE_BOOKING
from recon_pipeline.scenario.traps.exact import EXACT
from recon_pipeline.scenario.traps.fee import AMOUNT_MISMATCH, FEE
from recon_pipeline.scenario.traps.late_settlement import LATE_SETTLEMENT
from recon_pipeline.scenario.traps.missing import MISSING_IN_BANK, MISSING_IN_BOOKS
from recon_pipeline.scenario.traps.no_reference import NO_REFERENCE
from recon_pipeline.scenario.traps.returns import RETURN_KNOWN, RETURN_UNKNOWN
from recon_pipeline.scenario.traps.spec import KindSpec
from recon_pipeline.scenario.traps.split import SPLIT
from recon_pipeline.scenario.traps.status_mismatch import STATUS_MISMATCH
from recon_pipeline.scenario.traps.tie import TIE
from recon_pipeline.scenario.traps.truncated_ref import TRUNCATED_REF

TRAPS: dict[str, KindSpec] = {spec.name: spec for spec in (
    EXACT, LATE_SETTLEMENT, FEE, AMOUNT_MISMATCH, BATCH, PARTIAL_BATCH, SPLIT,
    RETURN_KNOWN, RETURN_UNKNOWN, TRUNCATED_REF, MISSING_IN_BANK, MISSING_IN_BOOKS,
    DUPLICATE_BOOKING, STATUS_MISMATCH, BUSINESS_DUPLICATES, NO_REFERENCE, CUTOFF_EDGE, TIE,
)}

# Kinds a scenario gets only when asked for (``kinds=``), so default scenarios stay as they were.
OPT_IN_KINDS: tuple[str, ...] = ("cutoff_edge", "tie")
KINDS: tuple[str, ...] = tuple(TRAPS)
DEFAULT_KIND_WEIGHTS: dict[str, float] = {name: spec.weight for name, spec in TRAPS.items()}

__all__ = ["DEFAULT_KIND_WEIGHTS", "KINDS", "OPT_IN_KINDS", "TRAPS", "KindSpec"]
