"""The close pack's "Internal consistency" sheet: how our own services kept up (CONTRACT §6).

Finance signs the bank reconciliation; before that, the platform team must see which of our
services failed to report, reported late or disagree with the service that started the
payment. One row per participant service, from ``marts.rpt_internal_consistency``, so the
sheet's figures are the warehouse's (and tie with the open exceptions on the Exceptions
sheet). Without internal consistency configured the mart is empty and no sheet is added, so
the pack is exactly what it was before §6.
"""
from __future__ import annotations

import datetime as dt

from recon_pipeline.consistency.counts import ParticipantCounts, read_participant_counts
from recon_pipeline.reports.xlsx import Column, SheetPlan, fresh
from recon_pipeline.warehouse.connection import Warehouse

SHEET_NAME = "Internal consistency"
COLUMNS = [Column("Service"), Column("Processings sent this cycle", "count"), Column("Reported", "count"),
           Column("Late", "count"), Column("Missing", "count"), Column("Disagreeing", "count")]


def participant_rows(wh: Warehouse, cycle: dt.date) -> list[ParticipantCounts]:
    """The sheet's rows; empty when the cycle does not track internal consistency (no sheet then)."""
    return read_participant_counts(wh, cycle)


def write_internal_consistency(plan: SheetPlan, pay_cycle: str, rows: list[ParticipantCounts]) -> dict[str, int]:
    plan.digest.sheet(SHEET_NAME)
    columns = fresh(COLUMNS)
    values = [[r.service, r.processings, r.reported, r.late, r.missing, r.disagreeing] for r in rows]
    for row in values:
        for col, value in zip(columns, row):
            col.fit(len(str(value)))
    plan.size([columns])
    plan.freeze("A5")
    plan.title(f"Internal consistency — pay cycle {pay_cycle}",
               "Per participant service: processings sent this cycle and how many it reported; late reports, "
               "missing reports and disagreements with the entry service open in this cycle (see Exceptions).")
    plan.table(columns, values, filter_=True, repeat_header=True)
    plan.finish()
    return {"rows": len(values)}
