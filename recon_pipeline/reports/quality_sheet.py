"""The Data quality sheet: this cycle's input counts, its data-quality checks and its
statement findings only, so each cycle's pack shows its own figures. Quarantined input has no
pay cycle (it could not be read far enough to know one): it is listed apart, under its own
heading, on every pack until it is dealt with, and never counted as this cycle's."""
from __future__ import annotations

import datetime as dt
from typing import Any

from recon_pipeline.reports.xlsx import BOLD, Column, SheetPlan, fresh

COUNT_COLUMNS = [Column("Measure (this pay cycle)"), Column("Value", "count")]
CHECK_COLUMNS = [Column("Check"), Column("Dataset"), Column("Severity"), Column("Result"),
                 Column("Failing rows", "count"), Column("Evidence")]
FINDING_COLUMNS = [Column("Account"), Column("Statement file"), Column("Finding"), Column("Severity"), Column("Detail")]
QUARANTINE_FILE_COLUMNS = [Column("Quarantined statement file"), Column("sha256"), Column("Bytes", "count"),
                           Column("Reason")]
QUARANTINE_EVENT_COLUMNS = [Column("Quarantined event (source:offset)"), Column("Reason")]


def _count(wh, sql: str, params=()) -> int:
    row = wh.fetchone(sql, params)
    return int(row[0] or 0) if row else 0


def cycle_counts(wh, cycle: dt.date) -> list[list[Any]]:
    counts = [
        ["Statements closing in this cycle", _count(wh, "select count(*) from staging.stg_statements where pay_cycle = ?", (cycle,))],
        ["Statement files with a statement of this cycle", _count(
            wh, "select count(distinct source_sha256) from staging.stg_statements where pay_cycle = ?", (cycle,))],
        ["Bank lines booked in this cycle (each counted once)", _count(
            wh, "select count(*) from staging.stg_bank_lines where booking_date = ?", (cycle,))],
        ["Statement entries delivered for this cycle (with re-deliveries)", _count(
            wh, "select count(*) from raw.statement_lines where booking_date = ?", (cycle,))],
        ["Payment events of this cycle (each counted once)", _count(
            wh, "select count(*) from staging.stg_payment_events where event_cycle = ?", (cycle,))],
        ["Payments sent in this cycle", _count(
            wh, "select count(distinct payment_id) from staging.stg_payment_events "
                "where event_cycle = ? and event_type = 'payment.sent'", (cycle,))],
    ]
    if wh.table_exists("dq", "check_results"):
        row = wh.fetchone("""select count(*), sum(case when passed then 0 else 1 end),
                                    sum(case when not passed and severity = 'blocking' then 1 else 0 end)
                             from dq.check_results where pay_cycle = ?""", (cycle,))
        counts += [["Data-quality checks run", int(row[0] or 0)], ["Checks failed", int(row[1] or 0)],
                   ["Blocking checks failed", int(row[2] or 0)]]
    return counts


def write_data_quality(plan: SheetPlan, wh, pay_cycle: str) -> dict[str, int]:
    cycle = dt.date.fromisoformat(pay_cycle)
    plan.digest.sheet("Data quality")
    counts = cycle_counts(wh, cycle)
    checks = []
    if wh.table_exists("dq", "check_results"):
        checks = [[r[0], r[1], r[2], "PASS" if r[3] else "FAIL", r[4], r[5]] for r in wh.fetchall(
            """select check_name, dataset, severity, passed, failing_count, evidence
               from dq.check_results where pay_cycle = ? order by passed, severity, check_name""", (cycle,))]
    findings = [list(r) for r in wh.fetchall("""
        select f.account_iban, s.original_name, f.code, f.severity, f.message
        from raw.statement_findings as f
        join raw.statement_files as s on s.source_sha256 = f.source_sha256
        join staging.stg_statements as st on st.source_sha256 = f.source_sha256
             and st.statement_index = f.statement_index
        where st.pay_cycle = ?
        order by f.account_iban, s.original_name, f.code""", (cycle,))]
    q_files = [list(r) for r in wh.fetchall("""select original_name, source_sha256, size_bytes, reason
                                              from raw.quarantine_statement_files
                                              order by original_name, source_sha256""")]
    q_events = [list(r) for r in wh.fetchall("select message_key, reason from raw.quarantine_events order by message_key")]
    count_cols, check_cols, finding_cols, file_cols, event_cols = (
        fresh(c) for c in (COUNT_COLUMNS, CHECK_COLUMNS, FINDING_COLUMNS, QUARANTINE_FILE_COLUMNS,
                           QUARANTINE_EVENT_COLUMNS))
    tables = ((count_cols, counts), (check_cols, checks), (finding_cols, findings),
              (file_cols, q_files), (event_cols, q_events))
    for cols, rows in tables:
        for row in rows:
            for col, value in zip(cols, row):
                col.fit(len(str(value)) if value is not None else 0)
    plan.size([t[0] for t in tables])
    plan.freeze("A5")
    plan.title(f"Data quality — pay cycle {pay_cycle}",
               "This cycle's inputs, checks and statement findings. Quarantined input (no pay cycle) is listed apart.")
    plan.table(count_cols, counts, repeat_header=True)
    plan.blank()
    plan.append([plan.cell("Data-quality checks of this cycle", font=BOLD)])
    plan.table(check_cols, checks, filter_=True)
    if not checks:
        plan.note("No check results recorded for this cycle.")
    plan.blank()
    plan.append([plan.cell("Statement integrity findings of this cycle", font=BOLD)])
    plan.table(finding_cols, findings)
    if not findings:
        plan.note("None.")
    plan.blank()
    plan.append([plan.cell("Quarantine: input that could not be read far enough to belong to a pay cycle "
                           "(kept with its raw bytes; shown on every pack until dealt with)", font=BOLD)])
    plan.table(file_cols, q_files)
    plan.blank()
    plan.table(event_cols, q_events)
    plan.finish()
    return {"checks": len(checks), "findings": len(findings), "quarantined": len(q_files) + len(q_events)}
