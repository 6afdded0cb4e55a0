"""The Exceptions sheet: one row per exception of the cycle (open first), with the contract's
operator columns (`Exception id`, `Status`, `Action`, `Reason` — the last two empty) first,
then routing, age, the amount at stake, and both sides side by side (our payment; the bank
line with its bank reference), looked up across every cycle (rpt_exceptions).

`recon resolve --from-xlsx` reads this sheet back: a single header row (row 4) with those
exact names, one row per exception, the id as text. The subtotals by team and priority sit
below the list in columns E onwards, never in the Exception id/Action/Reason columns, so a
reader that applies rows whose Action is filled in never sees them as exceptions.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from recon_pipeline.reports.xlsx import BOLD, Column, SheetPlan, column_widths_sql, fresh

# (header, kind, rpt_exceptions column or None for the operator's empty columns)
BASE = [
    ("Exception id", "text", "exception_id"), ("Status", "text", "status"), ("Action", "text", None),
    ("Reason", "text", None), ("Type", "text", "exception_type"), ("Team", "text", "assigned_team"),
    ("Priority", "text", "priority"), ("Age (days)", "count", "age_days"),
]
AGING = [("Aging bucket", "text", "aging_bucket"), ("SLA due", "date", "sla_due"),
         ("SLA breached", "text", "sla_breached")]
REST = [
    ("Account", "text", "account_iban"), ("Currency", "text", "currency"),
    ("Amount at stake", "money", "amount_at_stake"),
    ("Payment id", "text", "payment_id"), ("Our amount", "money", "payment_amount"),
    ("Our counterparty", "text", "payment_counterparty"),
    ("Bank line id", "text", "bank_line_id"), ("Bank reference", "text", "bank_reference"),
    ("Bank amount", "money", "bank_amount"), ("Booking date", "date", "bank_booking_date"),
    ("Bank counterparty", "text", "bank_counterparty"), ("Opened cycle", "date", "opened_cycle"),
    ("Resolution", "text", "resolution_text"),
]
SUBTOTAL_FIRST_COL = 5       # column E: clear of Exception id, Status, Action and Reason
SUBTOTAL_COLUMNS = [Column("Team"), Column("Priority"), Column("Currency"), Column("Open exceptions", "count"),
                    Column("Amount at stake", "money", currency_from=2)]


def exception_layout(available: set[str]) -> list[tuple[str, str, str | None]]:
    """The sheet's columns; the aging/SLA columns appear when fct_exceptions has them."""
    return BASE + [c for c in AGING if c[2] in available] + REST


def _select(layout) -> str:
    parts = []
    for _header, _, source in layout:
        if source is None:
            parts.append("cast(null as varchar)")
        elif source == "resolution_text":
            # one column for the decision: "accept by alice at 2026-11-13 14:02: written off"
            parts.append("case when resolution is null then null else resolution"
                         " || coalesce(' by ' || resolved_by, '')"
                         " || coalesce(' at ' || substr(cast(resolved_at as varchar), 1, 16), '')"
                         " || coalesce(': ' || reason, '') end")
        elif source == "sla_breached":
            parts.append("case when sla_breached then 'yes' when not sla_breached then 'no' end")
        else:
            parts.append(source)
    return ", ".join(f"{expr} as c{i}" for i, expr in enumerate(parts))


def exceptions_query(wh) -> tuple[list[tuple[str, str, str | None]], str]:
    available = set(wh.column_names("select * from marts.rpt_exceptions"))
    layout = exception_layout(available)
    sql = (f"select {_select(layout)} from marts.rpt_exceptions where pay_cycle = ? "
           "order by case when status = 'open' then 0 else 1 end, priority, age_days desc, exception_id")
    return layout, sql


def subtotal_rows(wh, cycle: dt.date) -> list[list[Any]]:
    rows = wh.fetchall("""
        select assigned_team, priority, currency, count(*), sum(amount_at_stake)
        from marts.rpt_exceptions where pay_cycle = ? and status = 'open'
        group by assigned_team, priority, currency order by assigned_team, priority, currency""", (cycle,))
    return [[r[0], r[1], r[2], int(r[3]), r[4]] for r in rows]


def write_exceptions(plan: SheetPlan, wh, pay_cycle: str) -> dict[str, Any]:
    cycle = dt.date.fromisoformat(pay_cycle)
    plan.digest.sheet("Exceptions")
    layout, sql = exceptions_query(wh)
    currency_index = next(i for i, c in enumerate(layout) if c[2] == "currency")
    columns = [Column(h, k, currency_from=currency_index if k == "money" else None) for h, k, _ in layout]
    column_widths_sql(wh, sql, (cycle,), columns)
    subtotals = subtotal_rows(wh, cycle)
    sub_cols = fresh(SUBTOTAL_COLUMNS)
    for row in subtotals:
        for col, value in zip(sub_cols, row):
            col.fit(len(f"{abs(Decimal(value)):,.2f}") + 6 if col.kind == "money" else len(str(value)))
    plan.size([columns, [Column("")] * (SUBTOTAL_FIRST_COL - 1) + sub_cols])
    plan.freeze("B5")
    plan.title(f"Exceptions — pay cycle {pay_cycle}",
               "Open exceptions (first) and those resolved this cycle. To decide: fill in Action (accept, adjust, "
               "escalate, timing) and Reason, then `recon resolve --from-xlsx`. Amount at stake: the fee or "
               "difference on a link, the item's amount otherwise.")
    top, last = plan.table(columns, plan_rows(wh, sql, cycle), filter_=True, repeat_header=True)
    rows = last - top
    if not rows:
        plan.note("No exceptions in this pay cycle.", col=SUBTOTAL_FIRST_COL)   # never in the id column
    plan.blank()
    plan.append([None] * (SUBTOTAL_FIRST_COL - 1) + [plan.cell("Open exceptions by team and priority", font=BOLD)])
    plan.table(sub_cols, subtotals, first_col=SUBTOTAL_FIRST_COL)
    totals: dict[str, list] = {}
    for _team, _priority, currency, count, amount in subtotals:
        t = totals.setdefault(currency, [0, Decimal(0)])
        t[0] += count
        t[1] += amount
    for currency, (count, amount) in sorted(totals.items()):
        plan.data_row(sub_cols, ["All teams", "All", currency, count, amount],
                      first_col=SUBTOTAL_FIRST_COL, font=BOLD)
    plan.finish()
    return {"exceptions": rows, "open_exceptions": sum(t[0] for t in totals.values()),
            "open_amount": {c: t[1] for c, t in totals.items()}}


def plan_rows(wh, sql: str, cycle: dt.date):
    for row in wh.iter_rows(sql, (cycle,)):
        yield list(row)
