"""BAI2 mapping rules: implied decimals, type-code signs, continuation records, text fields
with commas and slashes, availability fields, and trailer totals."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from recon_pipeline.statements import StatementParseError, parse_statement
from recon_pipeline.statements.integrity import statement_findings


def bai(account_records: str, group_ccy: str = "USD") -> bytes:
    return (f"01,SENDER,RECEIVER,260102,0800,1,,,2/\n02,RECEIVER,BANK,1,260101,2359,{group_ccy},2/\n"
            f"{account_records}\n98,0,1,0/\n99,0,1,0/\n").encode()


def test_summary_balances_and_detail_signs_with_implied_decimals():
    data = bai("03,12345,USD,010,100000,,,015,80000,,/\n"
               "16,195,50000,,BREF1,CREF1,Incoming wire/\n"
               "16,495,70000,,BREF2,CREF2,Outgoing wire/\n"
               "49,300000,4/")
    stmt = parse_statement(data).statements[0]
    assert (stmt.opening_balance, stmt.closing_balance) == (Decimal("1000.00"), Decimal("800.00"))
    assert [line.amount for line in stmt.lines] == [Decimal("500.00"), Decimal("-700.00")]
    assert stmt.lines[0].bank_reference == "BREF1"
    assert stmt.lines[0].customer_reference == "CREF1"
    assert stmt.lines[0].booking_date == dt.date(2026, 1, 1)   # the group's as-of date
    assert stmt.balanced is True
    assert statement_findings(stmt) == []                     # 49 total and record count agree


def test_continuation_records_extend_text_and_text_keeps_commas_and_slashes():
    data = bai("03,1,USD,010,0,,/\n"
               "16,447,60000,,SPB1,AB/GS/0001,ACH Credit, Client Ref ID: AB/GS/0001\n"
               "88,EREF: E2E-77\n88,CRNM: TEST INC\n88,DBNM: US INC\n"
               "49,60000,6/")
    line = parse_statement(data).statements[0].lines[0]
    assert line.customer_reference == "AB/GS/0001"
    assert line.end_to_end_id == "E2E-77"
    assert line.counterparty_name == "TEST INC"                # 447 is a debit: the creditor
    assert "ACH Credit, Client Ref ID: AB/GS/0001" in line.remittance_info


def test_continuation_can_carry_the_reference_fields_of_a_detail():
    data = bai("03,1,USD/\n16,351,1000,S,1000,0,0/\n88,I-GEN1,/\n88,REPO SWEEP\n49,2000,4/")
    line = parse_statement(data).statements[0].lines[0]
    assert line.bank_reference == "I-GEN1"
    assert line.remittance_info == "REPO SWEEP"
    assert line.amount == Decimal("10.00")


def test_value_dated_and_distributed_availability_fields_are_skipped_correctly():
    data = bai("03,1,USD,010,0,,/\n"
               "16,409,2500,V,260105,,BREF,,RETURNED CHEQUE/\n"
               "16,115,500000,D,2,0,100000,1,400000,BREF2,,LOCK BOX/\n"
               "49,502500,4/")
    first, second = parse_statement(data).statements[0].lines
    assert first.value_date == dt.date(2026, 1, 5)
    assert (first.amount, first.bank_reference, first.remittance_info) == (Decimal("-25.00"), "BREF", "RETURNED CHEQUE")
    assert (second.amount, second.bank_reference, second.remittance_info) == (Decimal("5000.00"), "BREF2", "LOCK BOX")


def test_account_summary_continued_on_88_records():
    data = bai("03,1,USD,010,-500000,,,190/\n88,500000,,,015,,/\n49,0,3/")
    stmt = parse_statement(data).statements[0]
    assert stmt.opening_balance == Decimal("-5000.00")


def test_currency_with_other_minor_units_scales_accordingly():
    data = bai("03,1,JPY,010,1000,,,015,1000,,/\n49,2000,2/", group_ccy="JPY")
    stmt = parse_statement(data).statements[0]
    assert stmt.opening_balance == Decimal("1000") and stmt.currency == "JPY"


def test_records_without_trailing_slash_are_read():
    data = bai("03,1,USD,010,100,,,015,100,,\n49,200,2")
    assert parse_statement(data).statements[0].closing_balance == Decimal("1.00")


def test_trailer_total_disagreeing_with_records_is_a_finding_not_a_failure():
    data = bai("03,1,USD,010,100,,,015,100,,/\n16,195,5,,,,x/\n49,999,3/")
    stmt = parse_statement(data).statements[0]
    codes = [f.code for f in statement_findings(stmt)]
    assert "control_total_mismatch" in codes


def test_detail_outside_an_account_is_quarantined():
    with pytest.raises(StatementParseError, match="outside an account"):
        parse_statement(b"01,A,B,260102,0800,1,,,2/\n02,B,C,1,260101,,USD,2/\n16,195,5,,,,x/\n98,0,0,0/\n99,0,1,0/\n")
