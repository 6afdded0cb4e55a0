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

from openpyxl import Workbook
from openpyxl.styles import Font

from recon_pipeline.consistency.counts import read_participant_counts
from recon_pipeline.warehouse.connection import Warehouse

SHEET_NAME = "Internal consistency"
HEADERS = ("Service", "Processings sent this cycle", "Reported", "Late", "Missing", "Disagreeing")


def add_internal_consistency_sheet(wb: Workbook, wh: Warehouse, cycle: dt.date) -> None:
    """Append the sheet to ``wb`` when the cycle tracks internal consistency."""
    rows = read_participant_counts(wh, cycle)
    if not rows:
        return
    ws = wb.create_sheet(SHEET_NAME)
    ws["A1"] = f"Internal consistency — pay cycle {cycle.isoformat()}"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = ("Per participant service: processings sent this cycle and how many it reported; late "
                "reports, missing reports and disagreements with the entry service open in this cycle "
                "(see the Exceptions sheet).")
    ws.append([])
    ws.append(HEADERS)
    for cell in ws[4]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([None, r.processings, r.reported, r.late, r.missing, r.disagreeing])
        # A service name comes from event data: always text, never a formula.
        name = ws.cell(row=ws.max_row, column=1, value=r.service)
        name.data_type = "s"
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 28

