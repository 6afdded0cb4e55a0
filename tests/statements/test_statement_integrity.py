"""Integrity gates: balance proof, control totals, missing balances, continuity."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from recon_pipeline.statements import Statement, StatementLine
from recon_pipeline.statements.integrity import continuity_finding, statement_findings

D = Decimal


def stmt(opening, closing, amounts, **kwargs) -> Statement:
    lines = [StatementLine(amount=D(a), currency="EUR", booking_date=dt.date(2026, 1, 2)) for a in amounts]
    return Statement(account="DE02100100100006820101", currency="EUR", opening_balance=opening,
                     closing_balance=closing, lines=lines, **kwargs)


def codes(statement):
    return [f.code for f in statement_findings(statement)]


def test_balanced_statement_has_no_findings():
    assert statement_findings(stmt(D("100"), D("70"), ["-50", "20"])) == []


def test_balance_mismatch_names_both_numbers():
    (finding,) = statement_findings(stmt(D("100"), D("75"), ["-50", "20"]))
    assert finding.code == "balance_mismatch" and finding.severity == "error"
    assert "70" in finding.message and "75" in finding.message


def test_pending_lines_do_not_count_towards_the_balance_proof():
    s = stmt(D("100"), D("50"), ["-50"])
    s.lines.append(StatementLine(amount=D("-9"), currency="EUR", booking_date=None, status="PDNG"))
    assert statement_findings(s) == []


def test_missing_balance_is_informational():
    (finding,) = statement_findings(stmt(None, D("1"), []))
    assert (finding.code, finding.severity) == ("balance_missing", "info")


def test_control_totals_must_agree_with_the_entries():
    s = stmt(D("0"), D("-30"), ["-50", "20"], control_entry_count=3, control_sum=D("-40"))
    assert codes(s) == ["control_total_mismatch", "control_total_mismatch"]
    assert codes(stmt(D("0"), D("-30"), ["-50", "20"], control_entry_count=2, control_sum=D("-30"))) == []


def test_parser_recorded_control_checks_are_evaluated():
    s = stmt(D("0"), D("0"), [], extra={"control_checks": [{"check": "BAI2 49", "expected": D("5"), "actual": D("4")}]})
    assert codes(s) == ["control_total_mismatch"]


def test_continuity_break_when_opening_differs_from_previous_closing():
    finding = continuity_finding(D("100.00"), stmt(D("90.00"), D("90.00"), []))
    assert finding.code == "continuity_break" and "100.00" in finding.message and "90.00" in finding.message
    assert continuity_finding(D("90.00"), stmt(D("90.00"), D("90.00"), [])) is None
    assert continuity_finding(None, stmt(D("90.00"), D("90.00"), [])) is None
