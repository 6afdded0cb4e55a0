"""Per-participant figures of one pay cycle, read once for every place that shows them.

The close pack's "Internal consistency" sheet and the Dagster asset check show the same
numbers, so both read them here from ``marts.rpt_internal_consistency`` (never recomputed
in Python, so they tie with fct_exceptions).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from recon_pipeline.warehouse.connection import Warehouse


@dataclass(frozen=True)
class ParticipantCounts:
    service: str
    processings: int
    reported: int
    late: int
    missing: int
    disagreeing: int

    @property
    def breaks(self) -> int:
        return self.late + self.missing + self.disagreeing


def read_participant_counts(wh: Warehouse, cycle: dt.date) -> list[ParticipantCounts]:
    """One entry per participant service; empty when §6 is not configured (or before it existed)."""
    found = wh.fetchone("select count(*) from information_schema.tables "
                        "where table_schema = 'marts' and table_name = 'rpt_internal_consistency'")
    if not found or not found[0]:
        return []
    rows = wh.fetchall("select service, processings, reported, late, missing, disagreeing "
                       "from marts.rpt_internal_consistency where pay_cycle = ? order by service", (cycle,))
    return [ParticipantCounts(str(s), *(int(v) for v in counts)) for s, *counts in rows]
