"""Integrity gates for a parsed statement: pure functions, no I/O.

A statement is evidence about money only if it is internally consistent. These checks say
where it is not — a balance that does not prove, control totals the entries do not add up
to, a gap to the previous statement — so the pipeline can flag the statement (contract §5:
"flagged, not silently trusted") instead of either trusting or rejecting it wholesale.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from recon_pipeline.statements.model import Statement, balance_gap

ERROR = "error"
WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class Finding:
    code: str        # balance_mismatch, control_total_mismatch, balance_missing, continuity_break
    severity: str    # error | warning | info
    message: str


def _label(stmt: Statement) -> str:
    ident = f" {stmt.statement_id}" if stmt.statement_id else ""
    return f"statement{ident} for {stmt.account or '(no account)'}"


def balance_finding(stmt: Statement) -> Finding | None:
    if stmt.opening_balance is None or stmt.closing_balance is None:
        missing = [n for n, v in (("opening", stmt.opening_balance), ("closing", stmt.closing_balance)) if v is None]
        return Finding(
            "balance_missing",
            INFO,
            f"{_label(stmt)} has no {' and no '.join(missing)} balance; balance proof not possible",
        )
    gap = balance_gap(stmt.opening_balance, stmt.movements, stmt.closing_balance)
    if gap:
        return Finding(
            "balance_mismatch",
            ERROR,
            f"{_label(stmt)}: opening {stmt.opening_balance} + movements {stmt.movements} = "
            f"{stmt.closing_balance - gap}, but the closing balance is {stmt.closing_balance} (difference {gap})",
        )
    return None


def control_findings(stmt: Statement) -> list[Finding]:
    """Totals the format itself carries: camt ``TxsSummry`` (entry count and net sum over all
    entries in the record, whatever their status) and the per-format checks a parser records
    in ``extra["control_checks"]`` (BAI2 account trailers)."""
    findings = []
    if stmt.control_entry_count is not None and stmt.control_entry_count != len(stmt.lines):
        findings.append(Finding(
            "control_total_mismatch",
            ERROR,
            f"{_label(stmt)}: the file says {stmt.control_entry_count} entries, it holds {len(stmt.lines)}",
        ))
    if stmt.control_sum is not None:
        net = sum((line.amount for line in stmt.lines), Decimal(0))
        if net != stmt.control_sum:
            findings.append(Finding(
                "control_total_mismatch",
                ERROR,
                f"{_label(stmt)}: the file's net total is {stmt.control_sum}, the entries add up to {net}",
            ))
    for check in stmt.extra.get("control_checks", ()):
        if check.get("expected") is not None and check.get("expected") != check.get("actual"):
            findings.append(Finding(
                "control_total_mismatch",
                ERROR,
                f"{_label(stmt)}: {check.get('check', 'control total')}: file says {check['expected']}, "
                f"the records give {check.get('actual')}",
            ))
    return findings


def statement_findings(stmt: Statement) -> list[Finding]:
    findings = []
    balance = balance_finding(stmt)
    if balance is not None:
        findings.append(balance)
    findings.extend(control_findings(stmt))
    return findings


def continuity_finding(previous_closing: Decimal | None, stmt: Statement) -> Finding | None:
    """This statement should open where the previous one for the same account closed."""
    if previous_closing is None or stmt.opening_balance is None:
        return None
    if previous_closing == stmt.opening_balance:
        return None
    return Finding(
        "continuity_break",
        WARNING,
        f"{_label(stmt)} opens at {stmt.opening_balance}, but the previous statement closed at "
        f"{previous_closing} (gap {stmt.opening_balance - previous_closing})",
    )
