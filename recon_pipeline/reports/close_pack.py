"""The close pack: the Excel workbook finance downloads, reviews and signs per pay cycle.

Sheets: Summary, Balance proof, Exceptions, Matches, Open items, Data quality, Sign-off.
Every value comes from the marts of that cycle, so the pack and the warehouse never
disagree. Text that came from outside (names, remittance info, references, reasons) is
written as a string cell, never as a formula: a counterparty called "=HYPERLINK(...)" stays
text. Workbook properties are pinned to the cycle so a rebuild gives the same content.
"""
from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from recon_pipeline.reports.internal_consistency_sheet import add_internal_consistency_sheet
from recon_pipeline.warehouse.connection import Warehouse

MONEY_FORMAT = "#,##0.00;[Red]-#,##0.00"
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14)
STATUSES = ("unmatched", "matched", "partial_match", "exception", "resolved")


def set_cell(cell: Cell, value: Any) -> None:
    """Write a value so Excel shows it as data: strings are always text, never formulas."""
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"
        if value[:1] in ("=", "+", "-", "@"):
            cell.quotePrefix = True
    elif isinstance(value, Decimal):
        cell.value = value
        cell.number_format = MONEY_FORMAT
    elif isinstance(value, (dt.datetime, dt.date)):
        cell.value = value
        cell.number_format = "yyyy-mm-dd hh:mm" if isinstance(value, dt.datetime) else "yyyy-mm-dd"
    else:
        cell.value = value


def _write_table(ws, top_row: int, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(row=top_row, column=col)
        set_cell(cell, header)
        cell.fill = HEADER_FILL
        cell.font = HEADER_FONT
    r = top_row
    for r, row in enumerate(rows, start=top_row + 1):
        for col, value in enumerate(row, start=1):
            set_cell(ws.cell(row=r, column=col), value)
    for col, header in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(col)].width = max(12, min(48, len(header) + 4))
    return r


def _title(ws, text: str, subtitle: str) -> None:
    set_cell(ws["A1"], text)
    ws["A1"].font = TITLE_FONT
    set_cell(ws["A2"], subtitle)


def _rows(wh: Warehouse, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    return wh.fetch_dicts(sql, params)


def write_close_pack(wh: Warehouse, pay_cycle: str, path: Path) -> Path:
    """Write the close pack of one pay cycle to ``path`` (atomically) and return the path."""
    cycle = dt.date.fromisoformat(pay_cycle)
    wb = Workbook()
    stamp = dt.datetime.combine(cycle, dt.time(0, 0))
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "recon"
    wb.properties.title = f"Close pack {pay_cycle}"

    summary = _rows(wh, "select * from marts.rpt_close_summary where pay_cycle = ? order by account_iban, currency",
                    (cycle,))
    _summary_sheet(wb.active, pay_cycle, summary)
    _balance_sheet(wb.create_sheet("Balance proof"), pay_cycle, summary)
    _exceptions_sheet(wb.create_sheet("Exceptions"), wh, cycle)
    _matches_sheet(wb.create_sheet("Matches"), wh, cycle)
    _open_items_sheet(wb.create_sheet("Open items"), wh, cycle)
    _data_quality_sheet(wb.create_sheet("Data quality"), wh, cycle)
    _sign_off_sheet(wb.create_sheet("Sign-off"), pay_cycle, summary)
    add_internal_consistency_sheet(wb, wh, cycle)

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".xlsx.part")
    wb.save(tmp)
    os.replace(tmp, path)
    return path


def _summary_sheet(ws, pay_cycle: str, summary: list[dict[str, Any]]) -> None:
    ws.title = "Summary"
    _title(ws, f"Reconciliation close pack — pay cycle {pay_cycle}",
           "Counts and amounts per reconciliation status, per account. Amounts in account currency.")
    headers = ["Account", "Currency", "Side"] + [f"{s} (count)" for s in STATUSES] + \
              [f"{s} (amount)" for s in STATUSES] + ["Total items", "Match rate", "Exposure (count)",
                                                      "Exposure (amount)"]
    rows = []
    for s in summary:
        for side, prefix, total in (("Our payments", "payments", "payments_count"),
                                    ("Bank lines", "bank_lines", "bank_lines_count")):
            rows.append([s["account_iban"], s["currency"], side]
                        + [s[f"{prefix}_{st}_count"] for st in STATUSES]
                        + [s[f"{prefix}_{st}_amount"] for st in STATUSES]
                        + [s[total], s["match_rate"] if side == "Our payments" else None,
                           s["exposure_count"] if side == "Our payments" else None,
                           s["exposure_amount"] if side == "Our payments" else None])
    last = _write_table(ws, 4, headers, rows)
    if not rows:
        set_cell(ws.cell(row=last + 1, column=1), "No payments or bank lines in this pay cycle.")
    for row in ws.iter_rows(min_row=5, max_row=last):
        for cell in row:
            if cell.column_letter == get_column_letter(len(headers) - 2) and cell.value is not None:
                cell.number_format = "0.0%"
    ws.freeze_panes = "D5"


def _balance_sheet(ws, pay_cycle: str, summary: list[dict[str, Any]]) -> None:
    _title(ws, f"Statement balance proof — {pay_cycle}",
           "Opening + movements = closing, per account, from the bank statements of this cycle.")
    rows = []
    for s in summary:
        proof = s["balance_proof_ok"]
        rows.append([s["account_iban"], s["currency"], s["statement_count"], s["opening_balance"],
                     s["statement_movements"], s["closing_balance"],
                     "n/a" if proof is None else ("OK" if proof else "BROKEN")])
    _write_table(ws, 4, ["Account", "Currency", "Statements", "Opening balance", "Movements",
                         "Closing balance", "Opening + movements = closing"], rows)


def _exceptions_sheet(ws, wh: Warehouse, cycle: dt.date) -> None:
    _title(ws, f"Exceptions — {cycle.isoformat()}",
           "Open exceptions and those resolved this cycle, routed and aged. Resolve with `recon resolve`.")
    rows = _rows(wh, """
        select e.exception_id, e.exception_type, e.status, e.priority, e.assigned_team, e.account_iban,
               e.amount, e.amount_difference, e.currency, e.payment_id, e.bank_line_id,
               b.bank_reference, b.counterparty_name, e.opened_cycle, e.age_days,
               e.resolution, e.resolved_by, e.resolved_at, e.reason
        from marts.fct_exceptions as e
        left join marts.fct_bank_line_reconciliation as b
               on b.bank_line_id = e.bank_line_id and b.pay_cycle = e.pay_cycle
        where e.pay_cycle = ?
        order by e.status desc, e.priority, e.age_days desc, e.exception_id""", (cycle,))
    headers = ["Exception id", "Type", "Status", "Priority", "Team", "Account", "Amount", "Difference",
               "Currency", "Payment id", "Bank line id", "Bank reference", "Counterparty", "Opened cycle",
               "Age (days)", "Resolution", "Resolved by", "Resolved at", "Reason"]
    _write_table(ws, 4, headers, ([r[k] for k in r] for r in rows))
    ws.freeze_panes = "C5"


def _matches_sheet(ws, wh: Warehouse, cycle: dt.date) -> None:
    _title(ws, f"Matches — {cycle.isoformat()}", "Every link decided this cycle, with rule and evidence.")
    rows = _rows(wh, """
        select k.match_id, k.rule_id, k.match_kind, k.recon_status, k.confidence, k.payment_id,
               p.end_to_end_id, p.amount as payment_amount, k.bank_line_id, b.bank_reference,
               b.amount as bank_amount, b.booking_date, k.amount_difference, k.date_difference_days,
               b.counterparty_name, b.remittance_info
        from marts.fct_reconciliation_links as k
        left join marts.fct_payment_reconciliation as p on p.payment_id = k.payment_id and p.pay_cycle = k.pay_cycle
        left join marts.fct_bank_line_reconciliation as b on b.bank_line_id = k.bank_line_id and b.pay_cycle = k.pay_cycle
        where k.pay_cycle = ?
        order by k.match_id, k.payment_id, k.bank_line_id""", (cycle,))
    headers = ["Match id", "Rule", "Kind", "Status", "Confidence", "Payment id", "End-to-end id",
               "Payment amount", "Bank line id", "Bank reference", "Bank amount", "Booking date",
               "Amount difference", "Date difference (days)", "Counterparty", "Remittance info"]
    _write_table(ws, 4, headers, ([r[k] for k in r] for r in rows))
    ws.freeze_panes = "B5"


def _open_items_sheet(ws, wh: Warehouse, cycle: dt.date) -> None:
    _title(ws, f"Open items — {cycle.isoformat()}", "Unmatched items still inside the settlement window.")
    payments = _rows(wh, """
        select 'payment' as side, payment_id as item_id, account_iban, amount, currency, end_to_end_id as reference,
               counterparty_name, sent_cycle as item_cycle, age_days, payment_status as detail
        from marts.fct_payment_reconciliation where pay_cycle = ? and recon_status = 'unmatched'
        order by age_days desc, payment_id""", (cycle,))
    lines = _rows(wh, """
        select 'bank line' as side, bank_line_id as item_id, account_iban, amount, currency,
               coalesce(end_to_end_id, bank_reference) as reference, counterparty_name,
               booking_date as item_cycle, age_days, source_file as detail
        from marts.fct_bank_line_reconciliation where pay_cycle = ? and recon_status = 'unmatched'
        order by age_days desc, bank_line_id""", (cycle,))
    headers = ["Side", "Item id", "Account", "Amount", "Currency", "Reference", "Counterparty", "Item cycle",
               "Age (days)", "Status / source file"]
    _write_table(ws, 4, headers, ([r[k] for k in r] for r in payments + lines))


def _data_quality_sheet(ws, wh: Warehouse, cycle: dt.date) -> None:
    _title(ws, f"Data quality — {cycle.isoformat()}",
           "Quarantined input (kept with raw bytes), statement integrity findings and data-quality checks.")
    row = 4
    quarantined_files = _rows(wh, """select original_name, source_sha256, size_bytes, reason
                                     from raw.quarantine_statement_files order by original_name, source_sha256""", ())
    quarantined_events = _rows(wh, """select message_key, reason from raw.quarantine_events
                                      order by message_key""", ())
    counts = [
        ["Statement files loaded", _scalar(wh, "select count(*) from raw.statement_files")],
        ["Statement files quarantined", len(quarantined_files)],
        ["Event messages loaded", _scalar(wh, "select count(*) from raw.payment_events")],
        ["Event messages quarantined", len(quarantined_events)],
    ]
    row = _write_table(ws, row, ["Measure", "Value"], counts) + 2
    row = _write_table(ws, row, ["Quarantined statement file", "sha256", "Bytes", "Reason"],
                       ([r["original_name"], r["source_sha256"], r["size_bytes"], r["reason"]]
                        for r in quarantined_files)) + 2
    row = _write_table(ws, row, ["Quarantined event (source:offset)", "Reason"],
                       ([r["message_key"], r["reason"]] for r in quarantined_events)) + 2
    findings = _rows(wh, """
        select f.account_iban, s.original_name, f.code, f.severity, f.message
        from raw.statement_findings as f
        join raw.statement_files as s on s.source_sha256 = f.source_sha256
        join raw.statements as st on st.source_sha256 = f.source_sha256 and st.statement_index = f.statement_index
        where coalesce(st.closing_date, st.opening_date) = ?
        order by f.account_iban, s.original_name, f.code""", (cycle,))
    row = _write_table(ws, row, ["Account", "Statement file", "Finding", "Severity", "Detail"],
                       ([r[k] for k in r] for r in findings)) + 2
    if wh.table_exists("dq", "check_results"):
        checks = _rows(wh, """select check_name, dataset, severity, passed, failing_count, evidence
                              from dq.check_results where pay_cycle = ? order by check_name""", (cycle,))
        _write_table(ws, row, ["Check", "Dataset", "Severity", "Passed", "Failing rows", "Evidence"],
                     ([r["check_name"], r["dataset"], r["severity"], "PASS" if r["passed"] else "FAIL",
                       r["failing_count"], r["evidence"]] for r in checks))


def _sign_off_sheet(ws, pay_cycle: str, summary: list[dict[str, Any]]) -> None:
    _title(ws, f"Sign-off — pay cycle {pay_cycle}",
           "Prepared by recon. Reviewer and approver sign below after reviewing every sheet.")
    open_exceptions = sum(int(s["payments_exception_count"]) + int(s["bank_lines_exception_count"])
                          for s in summary)
    broken = sum(1 for s in summary if s["balance_proof_ok"] is False)
    facts = [
        ["Accounts", len(summary)],
        ["Items in exception", open_exceptions],
        ["Accounts with a broken balance proof", broken],
    ]
    row = _write_table(ws, 4, ["Fact", "Value"], facts) + 2
    row = _write_table(ws, row, ["Role", "Name", "Date", "Signature", "Comment"],
                       [["Prepared by", "recon (automated)", pay_cycle, "", ""],
                        ["Reviewed by", "", "", "", ""],
                        ["Approved by", "", "", "", ""]])
    for r in ws.iter_rows(min_row=row - 2, max_row=row):
        for cell in r:
            cell.alignment = Alignment(vertical="center")
        ws.row_dimensions[r[0].row].height = 28


def _scalar(wh: Warehouse, sql: str) -> Any:
    row = wh.fetchone(sql)
    return row[0] if row else None
