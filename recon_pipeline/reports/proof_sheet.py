"""The Balance proof sheet: each statement's opening + movements = closing, then per account
the bank-to-books proof (rpt_bank_to_books via rpt_close_summary), line by line, ending in the
unexplained difference. One row per (account, line item) so the sheet filters by account and
a reader (or a test) finds every figure by its label."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from recon_pipeline.reports.summary_sheet import statement_word
from recon_pipeline.reports.xlsx import BOLD, Column, SheetPlan, fresh

# (label, rpt_close_summary column, sign shown) in the order a reviewer reads the proof.
PROOF_LINES = (
    ("Statement movements (bank)", "bank_movements"),
    ("Books: payments sent this cycle", "books_payment_movements"),
    ("Books: adjustments posted this cycle", "books_adjustments"),
    ("Books movements", "books_movements"),
    ("Difference (bank − books)", "bank_minus_books"),
    ("Fees on links (bank − books)", "fee_difference_amount"),
    ("Amount mismatches on links (bank − books)", "mismatch_difference_amount"),
    ("Returns booked by the bank", "returns_amount"),
    ("Open items of earlier cycles settled: our payments", "earlier_payments_settled_amount"),
    ("Open items of earlier cycles settled: bank lines", "earlier_bank_lines_settled_amount"),
    ("In flight: bank lines not yet in our books", "in_flight_bank_amount"),
    ("In flight: our payments not yet at the bank", "in_flight_books_amount"),
    ("Missing in books (flagged or closed bank lines)", "missing_in_books_amount"),
    ("Missing in bank (flagged or closed payments)", "missing_in_bank_amount"),
    ("Adjustments (in our books only)", "adjustments_amount"),
    ("Unexplained difference", "unexplained_difference"),
)
BOLD_LINES = {"bank_movements", "books_movements", "bank_minus_books", "unexplained_difference"}
STATEMENT_COLUMNS = [Column("Account"), Column("Currency"), Column("Statement id"), Column("Format"),
                     Column("File"), Column("Opening date", "date"),
                     Column("Opening balance", "money", currency_from=1),
                     Column("Movements", "money", currency_from=1), Column("Entries", "count"),
                     Column("Closing date", "date"), Column("Closing balance", "money", currency_from=1),
                     Column("Opening + movements = closing")]
PROOF_COLUMNS = [Column("Account"), Column("Currency"), Column("Line"), Column("Amount", "money", currency_from=1),
                 Column("Note")]


def proof_value(s: dict[str, Any], key: str) -> Decimal | None:
    if key == "bank_minus_books":
        if s["bank_movements"] is None:
            return None
        return s["bank_movements"] - s["books_movements"]
    return s[key]


def statement_rows(wh, cycle: dt.date) -> list[list[Any]]:
    rows = wh.fetchall("""
        select s.account_iban, s.currency, s.statement_id, s.format, f.original_name, s.opening_date,
               s.opening_balance, s.movements, s.entry_count, s.closing_date, s.closing_balance, s.balanced
        from staging.stg_statements as s
        left join raw.statement_files as f on f.source_sha256 = s.source_sha256
        where s.pay_cycle = ?
        order by s.account_iban, s.opening_date, s.source_sha256, s.statement_index""", (cycle,))
    out = []
    for r in rows:
        verdict = ("balances missing" if r[6] is None or r[10] is None
                   else "OK" if r[11] else "BROKEN")
        out.append(list(r[:11]) + [verdict])
    return out


def proof_rows(summary: list[dict[str, Any]]) -> list[list[Any]]:
    out = []
    for s in summary:
        no_statement = s["statement_status"] == "no statement"
        for label, key in PROOF_LINES:
            value = proof_value(s, key)
            note = ""
            if key == "bank_movements":
                note = statement_word(s)
            elif key == "unexplained_difference":
                note = ("no statement for this cycle: the proof cannot be made" if no_statement
                        else "OK: every cent attributed" if value == 0 else "NOT EXPLAINED: investigate")
            out.append([s["account_iban"], s["currency"], label, value, note])
    return out


def write_balance_proof(plan: SheetPlan, wh, pay_cycle: str, summary: list[dict[str, Any]]) -> dict[str, int]:
    cycle = dt.date.fromisoformat(pay_cycle)
    plan.digest.sheet("Balance proof")
    statements, proof = statement_rows(wh, cycle), proof_rows(summary)
    statement_cols, proof_cols = fresh(STATEMENT_COLUMNS), fresh(PROOF_COLUMNS)
    for cols, rows in ((statement_cols, statements), (proof_cols, proof)):
        for row in rows:
            for col, value in zip(cols, row):
                if col.kind == "money" and value is not None:
                    col.fit(len(f"{abs(Decimal(value)):,.2f}") + 6)
                elif col.kind in ("text", "count"):
                    col.fit(len(str(value)))
    plan.size([statement_cols, proof_cols])
    plan.freeze("A5")
    plan.title(f"Balance proof — pay cycle {pay_cycle}",
               "Each statement: opening + movements = closing. Each account: the bank's movements against "
               "our books', every cent attributed to a link, a difference on a link or a reconciling item.")
    plan.table(statement_cols, statements, repeat_header=True)
    if not statements:
        plan.note("No statement closes in this pay cycle.")
    plan.blank()
    plan.append([plan.cell("Bank-to-books proof (reconciling items are signed so that they add up to "
                           "bank − books)", font=BOLD)])
    top = plan.header(proof_cols)
    last = top
    for row in proof:
        plan.digest.row(row)
        bold = next(k for label, k in PROOF_LINES if label == row[2]) in BOLD_LINES
        last = plan.data_row(proof_cols, row, font=BOLD if bold else None, hashed=False)
    plan.filter_ref = f"A{top}:E{max(last, top + 1)}"
    plan.finish()
    return {"statements": len(statements), "proof_lines": len(proof)}
