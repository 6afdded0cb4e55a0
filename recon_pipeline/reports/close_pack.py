"""The close pack: the Excel workbook finance downloads, reviews and signs per pay cycle.

Sheets: Summary, Balance proof, Exceptions, Matches, Open items, Data quality, Sign-off.
Every value comes from the marts of that cycle, so the pack and the warehouse never
disagree, and the figures tie: the open exceptions (count and amount at stake) on the
summary, the exceptions sheet and the sign-off are the warehouse's. Text that came from
outside (names, remittance info, references, reasons) is written as a string cell, never as a
formula. The workbook is written in openpyxl's write-only mode with rows streamed from the
warehouse in batches, so memory stays bounded however large the cycle. Workbook properties are
pinned to the cycle so a rebuild of the same data gives the same content; a rebuild with
different data becomes the next version (see versions.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from recon_pipeline.reports.exceptions_sheet import write_exceptions
from recon_pipeline.reports.internal_consistency_sheet import SHEET_NAME as CONSISTENCY_SHEET
from recon_pipeline.reports.internal_consistency_sheet import participant_rows, write_internal_consistency
from recon_pipeline.reports.listings_sheets import (
    MATCH_COLUMNS,
    MATCH_SQL,
    MAX_SHEET_ROWS,
    OPEN_COLUMNS,
    OPEN_SQL,
    write_listing,
)
from recon_pipeline.reports.proof_sheet import write_balance_proof
from recon_pipeline.reports.quality_sheet import write_data_quality
from recon_pipeline.reports.signoff_sheet import sign_off_facts, write_sign_off
from recon_pipeline.reports.summary_sheet import write_summary
from recon_pipeline.reports.versions import decide_version, publish, read_manifest
from recon_pipeline.reports.xlsx import DataDigest, SheetPlan, fresh, set_cell  # noqa: F401  (set_cell: public API)
from recon_pipeline.warehouse.connection import Warehouse

SHEETS = ("Summary", "Balance proof", "Exceptions", "Matches", "Open items", "Data quality", "Sign-off")
PREPARER = "recon (automated)"


@dataclass
class PackResult:
    path: Path
    sha256: str
    version: int
    row_counts: dict[str, Any] = field(default_factory=dict)
    parquet_files: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)


def write_close_pack(wh: Warehouse, pay_cycle: str, path: Path, *, max_sheet_rows: int = MAX_SHEET_ROWS,
                     preparer: str = PREPARER) -> PackResult:
    """Write the close pack of one pay cycle to ``path`` (atomically) and describe what was written."""
    cycle = dt.date.fromisoformat(pay_cycle)
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = read_manifest(path)
    wb = Workbook(write_only=True)
    stamp = dt.datetime.combine(cycle, dt.time(0, 0))
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "recon"
    wb.properties.title = f"Close pack {pay_cycle}"
    digest = DataDigest()
    plans = {name: SheetPlan(wb.create_sheet(name), digest) for name in SHEETS}

    summary = wh.fetch_dicts("select * from marts.rpt_close_summary where pay_cycle = ? "
                             "order by account_iban, currency", (cycle,))
    counts: dict[str, Any] = {}
    counts["Summary"] = write_summary(plans["Summary"], wh, pay_cycle, summary)
    counts["Balance proof"] = write_balance_proof(plans["Balance proof"], wh, pay_cycle, summary)
    counts["Exceptions"] = write_exceptions(plans["Exceptions"], wh, pay_cycle)
    counts["Matches"] = write_listing(
        plans["Matches"], wh, sheet="Matches", title=f"Matches — pay cycle {pay_cycle}",
        subtitle="Every link decided this cycle, with its rule, confidence and evidence.",
        columns=fresh(MATCH_COLUMNS), sql=MATCH_SQL, params=(cycle,),
        parquet_path=path.with_name(f"{path.stem}_matches.parquet"), max_rows=max_sheet_rows)
    counts["Open items"] = write_listing(
        plans["Open items"], wh, sheet="Open items", title=f"Open items — pay cycle {pay_cycle}",
        subtitle="Unmatched items still inside the settlement window (in flight).",
        columns=fresh(OPEN_COLUMNS), sql=OPEN_SQL, params=(cycle, cycle),
        parquet_path=path.with_name(f"{path.stem}_open_items.parquet"), max_rows=max_sheet_rows)
    counts["Data quality"] = write_data_quality(plans["Data quality"], wh, pay_cycle)
    participants = participant_rows(wh, cycle)
    if participants:  # only when the cycle tracks internal consistency (CONTRACT §6)
        plan = SheetPlan(wb.create_sheet(CONSISTENCY_SHEET), digest)
        counts[CONSISTENCY_SHEET] = write_internal_consistency(plan, pay_cycle, participants)

    sha256 = digest.hexdigest()
    fact_rows, facts = sign_off_facts(summary)
    exceptions = {eid: state for eid, state in wh.iter_rows(
        "select exception_id, status || coalesce(' (' || resolution || coalesce(' by ' || resolved_by, '') || ')', '') "
        "from marts.rpt_exceptions where pay_cycle = ? order by exception_id", (cycle,))}
    version = decide_version(previous, sha256, facts, exceptions, path)
    write_sign_off(plans["Sign-off"], pay_cycle, fact_rows, sha256, version, preparer)

    part = path.with_suffix(".xlsx.part")
    wb.save(part)
    publish(path, part, version, previous, sha256, facts, exceptions)
    parquet = [c["parquet"] for c in counts.values() if isinstance(c, dict) and c.get("parquet")]
    return PackResult(path, sha256, version.number, counts, parquet, version.changes)
