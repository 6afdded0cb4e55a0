"""The Sign-off sheet: the figures a reviewer signs for (open exceptions and the amount at
stake, accounts whose proofs do not hold), the SHA-256 of the data the pack was built from,
the pack's version and what changed since the previous one, and the signature block."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from openpyxl.styles import Alignment

from recon_pipeline.reports.versions import PackVersion
from recon_pipeline.reports.xlsx import BOLD, Column, SheetPlan, fresh

LEFT = Alignment(horizontal="left", vertical="center")

FACT_COLUMNS = [Column("Fact"), Column("Value")]
SIGN_COLUMNS = [Column("Role"), Column("Name"), Column("Date"), Column("Signature"), Column("Comment")]
CHANGE_COLUMNS = [Column("Changes since the previous version")]


def sign_off_facts(summary: list[dict[str, Any]]) -> tuple[list[list[Any]], dict[str, Any]]:
    """Rows for the sheet and the same figures as plain values for the version manifest."""
    open_count = sum(int(s["open_exception_count"]) for s in summary)
    at_stake: dict[str, Decimal] = {}
    for s in summary:
        at_stake[s["currency"]] = at_stake.get(s["currency"], Decimal(0)) + Decimal(s["open_exception_amount"])
    no_statement = [s["account_iban"] for s in summary if s["statement_status"] == "no statement"]
    broken = [s["account_iban"] for s in summary if s["balance_proof_ok"] is False]
    unexplained = [s["account_iban"] for s in summary
                   if s["unexplained_difference"] is not None and s["unexplained_difference"] != 0]
    rows: list[list[Any]] = [["Accounts", len(summary), None], ["Open exceptions", open_count, None]]
    rows += [[f"Open exceptions at stake ({currency})", amount, currency]
             for currency, amount in sorted(at_stake.items())]
    rows += [["Accounts without a statement for this cycle", ", ".join(no_statement) or "none", None],
             ["Accounts with a broken statement balance proof", ", ".join(broken) or "none", None],
             ["Accounts with an unexplained bank-to-books difference", ", ".join(unexplained) or "none", None]]
    facts = {"open exceptions": open_count,
             **{f"open exceptions at stake {c}": format(a.normalize(), "f") for c, a in sorted(at_stake.items())},
             "accounts without a statement": len(no_statement), "accounts with a broken balance proof": len(broken),
             "accounts with an unexplained difference": len(unexplained)}
    for s in summary:
        for key in ("payments_exception_count", "bank_lines_exception_count", "payments_resolved_count",
                    "bank_lines_resolved_count"):
            facts[f"{s['account_iban']} {key.replace('_', ' ')}"] = int(s[key])
    return rows, facts


def write_sign_off(plan: SheetPlan, pay_cycle: str, rows: list[list[Any]], sha256: str,
                   version: PackVersion, preparer: str) -> None:
    rows = rows + [["Pack version", version.number, None],
                   ["SHA-256 of the data shown in this pack", sha256, None]]
    if version.previous_file:
        rows.append(["Previous version (kept beside this file)", version.previous_file, None])
    fact_cols, sign_cols, change_cols = fresh(FACT_COLUMNS), fresh(SIGN_COLUMNS), fresh(CHANGE_COLUMNS)
    for row in rows:
        for col, value in zip(fact_cols, row):
            col.fit(min(70, len(str(value))) if value is not None else 0)
    for col in sign_cols[1:]:
        col.fit(24)
    change_cols[0].fit(max([len(c) for c in version.changes] + [0]))
    plan.size([fact_cols, sign_cols, change_cols])
    plan.title(f"Sign-off — pay cycle {pay_cycle}",
               "Review every sheet, then sign. The figures below are the ones the other sheets tie to.")
    top = plan.header(fact_cols)
    for fact, value, currency in rows:
        cell = plan.cell(value, currency=currency) if value is not None else None
        if cell is not None:
            cell.alignment = LEFT
        plan.append([plan.cell(fact, font=BOLD), cell])
    plan.blank()
    if version.changes:
        plan.table(change_cols, [[c] for c in version.changes])
        plan.blank()
    plan.header(sign_cols)
    for role, name, date in (("Prepared by", preparer, pay_cycle), ("Reviewed by", "", ""), ("Approved by", "", "")):
        plan.ws.row_dimensions[plan.row + 1].height = 32      # room to sign on paper
        plan.append([plan.cell(role, font=BOLD), plan.cell(name), plan.cell(date)])
    plan.print_rows = f"{top}:{top}"
    plan.finish(landscape=False)
