"""The Summary sheet: what a reviewer reads first, and the figures every other sheet ties to.

Per account, counts and signed amounts per reconciliation status (our payments, outgoing
negative; the bank's lines, debits negative), incoming and outgoing apart, the two match
rates, open exceptions with the amount at stake, exposure and the proof results. Below, the
last cycles' trend and native Excel charts (status mix; match rate and exposure over time).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from openpyxl.chart import BarChart, LineChart, Reference

from recon_pipeline.reports.xlsx import BOLD, Column, SheetPlan

STATUSES = ("unmatched", "matched", "partial_match", "exception", "resolved")
TREND_CYCLES = 10
SIDES = (("Our payments", "payments"), ("Bank lines", "bank_lines"))


def status_columns() -> list[Column]:
    return ([Column("Account"), Column("Currency"), Column("Side")]
            + [Column(f"{s} (count)", "count") for s in STATUSES]
            + [Column(f"{s} (amount)", "money", currency_from=1) for s in STATUSES]
            + [Column("Total items", "count"), Column("Total amount", "money", currency_from=1),
               Column("Match rate", "rate")])


def account_columns() -> list[Column]:
    return [Column("Account"), Column("Currency"),
            Column("Payments in (count)", "count"), Column("Payments in (amount)", "money", currency_from=1),
            Column("Payments out (count)", "count"), Column("Payments out (amount)", "money", currency_from=1),
            Column("Bank credits (count)", "count"), Column("Bank credits (amount)", "money", currency_from=1),
            Column("Bank debits (count)", "count"), Column("Bank debits (amount)", "money", currency_from=1),
            Column("Payment match rate", "rate"), Column("Bank-line match rate", "rate"),
            Column("Open exceptions", "count"), Column("Open exceptions at stake", "money", currency_from=1),
            Column("Exposure (count)", "count"), Column("Exposure (amount)", "money", currency_from=1),
            Column("Statement"), Column("Unexplained difference", "money", currency_from=1)]


def trend_columns(currencies: Sequence[str]) -> list[Column]:
    return ([Column("Pay cycle", "date")] + [Column(f"{s} (items)", "count") for s in STATUSES]
            + [Column("Payment match rate", "rate"), Column("Bank-line match rate", "rate"),
               Column("Open exceptions", "count")]
            + [Column(f"Exposure {c}", "money") for c in currencies])


def _rate(numerator: int, denominator: int) -> Decimal | None:
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001")) if denominator else None


def status_rows(summary: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for s in summary:
        for side, prefix in SIDES:
            rate = s["payment_match_rate"] if prefix == "payments" else s["bank_line_match_rate"]
            rows.append([s["account_iban"], s["currency"], side]
                        + [int(s[f"{prefix}_{st}_count"]) for st in STATUSES]
                        + [s[f"{prefix}_{st}_amount"] for st in STATUSES]
                        + [int(s[f"{prefix}_count"]), s[f"{prefix}_amount"], rate])
    return rows


def statement_word(s: dict[str, Any]) -> str:
    """How the account's statements for the cycle stand, in words; never 'OK' without one."""
    if s["statement_status"] == "no statement":
        return "no statement"
    if s["balance_proof_ok"] is None:
        return "balances missing"
    return "balanced" if s["balance_proof_ok"] else "BROKEN"


def account_rows(summary: list[dict[str, Any]]) -> list[list[Any]]:
    return [[s["account_iban"], s["currency"],
             int(s["payments_incoming_count"]), s["payments_incoming_amount"],
             int(s["payments_outgoing_count"]), s["payments_outgoing_amount"],
             int(s["bank_lines_credit_count"]), s["bank_lines_credit_amount"],
             int(s["bank_lines_debit_count"]), s["bank_lines_debit_amount"],
             s["payment_match_rate"], s["bank_line_match_rate"],
             int(s["open_exception_count"]), s["open_exception_amount"],
             int(s["exposure_count"]), s["exposure_amount"],
             statement_word(s), s["unexplained_difference"]] for s in summary]


def trend_rows(wh, cycle: dt.date) -> tuple[list[str], list[list[Any]]]:
    """Per cycle (the last TREND_CYCLES up to this one): item counts per status, both match
    rates, open exceptions and exposure per currency (never added across currencies)."""
    counts = ", ".join(f"sum(payments_{s}_count + bank_lines_{s}_count)" for s in STATUSES)
    rows = wh.fetchall(f"""
        select pay_cycle, {counts},
               sum(payments_matched_count + payments_partial_match_count + payments_resolved_count),
               sum(payments_count),
               sum(bank_lines_matched_count + bank_lines_partial_match_count + bank_lines_resolved_count),
               sum(bank_lines_count), sum(coalesce(open_exception_count, 0))
        from marts.rpt_close_summary
        where pay_cycle <= ? and pay_cycle in (select distinct pay_cycle from marts.rpt_close_summary
                                              where pay_cycle <= ? order by pay_cycle desc limit {TREND_CYCLES})
        group by pay_cycle order by pay_cycle""", (cycle, cycle))
    exposure = wh.fetchall("""select pay_cycle, currency, sum(exposure_amount) from marts.rpt_close_summary
                              where pay_cycle <= ? group by pay_cycle, currency""", (cycle,))
    currencies = sorted({r[1] for r in exposure})
    by_key = {(r[0], r[1]): r[2] for r in exposure}
    out = []
    for r in rows:
        day = r[0]
        out.append([day] + [int(v or 0) for v in r[1:6]]
                   + [_rate(int(r[6] or 0), int(r[7] or 0)), _rate(int(r[8] or 0), int(r[9] or 0)), int(r[10] or 0)]
                   + [by_key.get((day, c), Decimal(0)) for c in currencies])
    return currencies, out


def write_summary(plan: SheetPlan, wh, pay_cycle: str, summary: list[dict[str, Any]]) -> dict[str, int]:
    cycle = dt.date.fromisoformat(pay_cycle)
    plan.digest.sheet("Summary")
    currencies, trend = trend_rows(wh, cycle)
    statuses, accounts = status_columns(), account_columns()
    tcols = trend_columns(currencies)
    s_rows, a_rows = status_rows(summary), account_rows(summary)
    for cols, rows in ((statuses, s_rows), (accounts, a_rows), (tcols, trend)):
        for row in rows:
            for col, value in zip(cols, row):
                col.fit(len(str(value)) if col.kind in ("text", "count") else 0)
                if col.kind == "money" and value is not None:
                    col.fit(len(f"{abs(Decimal(value)):,.2f}") + 6)
    plan.size([statuses, accounts, tcols])
    plan.freeze("D5")

    plan.title(f"Reconciliation close pack — pay cycle {pay_cycle}",
               "Counts and signed amounts (money in +, money out −) per reconciliation status and account, "
               "in account currency. Items of earlier cycles still open are counted in this cycle.")
    top, last = plan.table(statuses, s_rows, filter_=True, repeat_header=True)
    if not s_rows:
        plan.note("No payments or bank lines in this pay cycle.")
    plan.blank()
    plan.append([plan.cell("Per account: incoming and outgoing, match rates, open exceptions, proof", font=BOLD)])
    plan.table(accounts, a_rows)
    plan.note("Open exceptions at stake: the fee or difference on a link, the item's amount otherwise. "
              "Exposure: payments completed in our books that the bank has not confirmed (gross). "
              "Unexplained difference: see the Balance proof sheet.")
    plan.blank()

    plan.append([plan.cell(f"Last {TREND_CYCLES} pay cycles", font=BOLD)])
    t_top, t_last = plan.table(tcols, trend)
    plan.blank()
    mix_cols = [Column("Status"), Column("Our payments", "count"), Column("Bank lines", "count")]
    mix = [[st, sum(int(s[f"payments_{st}_count"]) for s in summary),
            sum(int(s[f"bank_lines_{st}_count"]) for s in summary)] for st in STATUSES]
    plan.append([plan.cell("Status mix this cycle (items)", font=BOLD)])
    m_top, m_last = plan.table(mix_cols, mix)
    plan.blank()
    _charts(plan, (t_top, t_last), (m_top, m_last), len(currencies), plan.row + 1)
    plan.finish()
    return {"accounts": len(summary), "status_rows": last - top}


def _charts(plan: SheetPlan, trend: tuple[int, int], mix: tuple[int, int], n_currencies: int, anchor_row: int) -> None:
    ws = plan.ws
    mix_chart = BarChart()
    mix_chart.type = "col"
    mix_chart.title = "Status mix (items)"
    mix_chart.y_axis.title = "items"
    mix_chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=mix[0], max_row=mix[1]), titles_from_data=True)
    mix_chart.set_categories(Reference(ws, min_col=1, min_row=mix[0] + 1, max_row=mix[1]))
    mix_chart.height, mix_chart.width = 7.5, 12
    ws.add_chart(mix_chart, f"A{anchor_row}")
    if trend[1] <= trend[0]:
        return
    rate = LineChart()
    rate.title = "Match rate, last cycles"
    rate.y_axis.number_format = "0%"
    rate.y_axis.scaling.min = 0
    rate.y_axis.scaling.max = 1
    rate.add_data(Reference(ws, min_col=7, max_col=8, min_row=trend[0], max_row=trend[1]), titles_from_data=True)
    rate.set_categories(Reference(ws, min_col=1, min_row=trend[0] + 1, max_row=trend[1]))
    for series in rate.series:        # markers, so a single cycle still shows a point
        series.marker.symbol = "circle"
        series.marker.size = 6
    rate.x_axis.number_format = "mm-dd"
    rate.height, rate.width = 7.5, 12
    ws.add_chart(rate, f"E{anchor_row}")
    if n_currencies:
        exposure = BarChart()
        exposure.type = "col"
        exposure.title = "Exposure, last cycles"
        exposure.add_data(Reference(ws, min_col=10, max_col=9 + n_currencies, min_row=trend[0], max_row=trend[1]),
                          titles_from_data=True)
        exposure.set_categories(Reference(ws, min_col=1, min_row=trend[0] + 1, max_row=trend[1]))
        exposure.height, exposure.width = 7.5, 12
        ws.add_chart(exposure, f"K{anchor_row}")
