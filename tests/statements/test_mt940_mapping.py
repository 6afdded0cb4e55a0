"""MT940/MT942 mapping rules: signs of reversals, :61: references and dates, :86: dialects,
and the envelope noise real files carry."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from recon_pipeline.statements import StatementParseError, parse_statement


def mt940(lines61_86: str, opening: str = ":60F:C260101EUR1000,00", closing: str = ":62F:C260102EUR1000,00") -> bytes:
    body = f":20:STMT1\n:25:NL91ABNA0417164300\n:28C:1/1\n{opening}\n{lines61_86}\n{closing}\n-\n"
    return body.encode("utf-8")


def lines(data: bytes):
    return [line for stmt in parse_statement(data, "x.sta").statements for line in stmt.lines]


@pytest.mark.parametrize("mark, amount, reversal", [
    ("C", "10.00", False),
    ("D", "-10.00", False),
    ("RC", "-10.00", True),   # reversal of a credit: money leaves the account
    ("RD", "10.00", True),    # reversal of a debit: money comes back
])
def test_debit_credit_mark_gives_the_sign_from_the_account_view(mark, amount, reversal):
    (line,) = lines(mt940(f":61:2601020102{mark}10,00NTRFNONREF"))
    assert line.amount == Decimal(amount)
    assert line.is_reversal is reversal


def test_funds_code_after_the_mark_is_not_part_of_the_amount():
    (line,) = lines(mt940(":61:2601020102CR3000,NTRFNONREF//B1"))
    assert line.amount == Decimal("3000")
    assert line.extra["funds_code"] == "R"


def test_references_dates_and_supplementary_details():
    (line,) = lines(mt940(":61:2512310102D1234,56NTRFMYREF-1//BANKREF-9\nsupplementary text"))
    assert line.value_date == dt.date(2025, 12, 31)
    assert line.booking_date == dt.date(2026, 1, 2)         # MMDD rolled into the next year
    assert line.customer_reference == "MYREF-1"
    assert line.bank_reference == "BANKREF-9"
    assert line.transaction_code == "NTRF"
    assert line.extra["supplementary_details"] == "supplementary text"


def test_swift_structured_86_gives_eref_counterparty_batch_and_return_reason():
    info = (":86:/RTRN/MS03//EREF/E2E-123//PREF/BATCH-7//CNTP/NL32INGB0000012345/INGBNL2\n"
            "A/J. Janssen///REMI/USTD//Invoice 42/")
    (line,) = lines(mt940(f":61:2601020102C1,57NTRFEREF//00000000001007\n{info}"))
    assert line.end_to_end_id == "E2E-123"
    assert line.batch_id == "BATCH-7"
    assert line.return_reason == "MS03"
    assert line.counterparty_iban == "NL32INGB0000012345"
    assert line.counterparty_name == "J. Janssen"
    assert line.remittance_info == "Invoice 42"
    assert line.customer_reference is None                   # "EREF" only points at :86:


def test_german_question_mark_subfields_and_sepa_keywords():
    # ?21 is a full 27-character subfield, so its text runs on into ?22.
    info = (":86:166?00SEPA-GUTSCHRIFT?109310?20EREF+E2E-ABC?21SVWZ+Rechnung Nr 4711 vom 0\n"
            "?221.01.2026?30GENODEF1XXX?31DE02100100100006820101?32Max Mustermann?34000")
    (line,) = lines(mt940(f":61:2601020102C99,00NTRFNONREF\n{info}"))
    assert line.transaction_code == "166"
    assert line.end_to_end_id == "E2E-ABC"
    assert line.remittance_info == "Rechnung Nr 4711 vom 01.01.2026"
    assert line.counterparty_iban == "DE02100100100006820101"
    assert line.counterparty_name == "Max Mustermann"
    assert line.extra["booking_text"] == "SEPA-GUTSCHRIFT"


def test_unstructured_86_is_kept_as_remittance_text():
    (line,) = lines(mt940(":61:2601020102D5,00NMSCNONREF\n:86:CARD PAYMENT SHOP 12\nAMSTERDAM NL"))
    assert line.remittance_info == "CARD PAYMENT SHOP 12 AMSTERDAM NL"


def test_statement_level_86_after_closing_is_not_glued_to_the_last_line():
    data = mt940(":61:2601020102D5,00NMSCNONREF\n:86:first", closing=":62F:C260102EUR995,00\n:86:STATEMENT INFO")
    stmt = parse_statement(data).statements[0]
    assert stmt.lines[0].remittance_info == "first"
    assert stmt.extra["information"] == ["STATEMENT INFO"]


def test_dash_inside_86_text_does_not_end_the_message():
    data = mt940(":61:2601020102D5,00NMSCNONREF\n:86:/EREF/AB\n-\nCD//REMI/USTD//x/\n:61:2601020102D1,00NMSCNONREF")
    stmt = parse_statement(data).statements[0]
    assert len(stmt.lines) == 2
    assert stmt.lines[0].end_to_end_id == "AB-CD"


def test_envelope_bytes_header_lines_and_28_without_c_are_tolerated():
    data = (b"\x01{1:F01INGBNL2ABXXX0000000000}{2:I940INGBNL2AXXXN}{4:\r\nABNANL2A\r\n940\r\n"
            b":20:REF\r\n:25:123456789\r\n:28:1/1\r\n:60F:C260101EUR0,\r\n"
            b":61:260102C1,NTRFNONREF\r\n:62M:C260102EUR1,\r\n-}\x03")
    parsed = parse_statement(data)
    stmt = parsed.statements[0]
    assert parsed.format == "MT940"
    assert (stmt.account, stmt.sequence, stmt.opening_balance, stmt.closing_balance) == (
        "123456789", "1/1", Decimal("0"), Decimal("1"))


def test_statements_split_on_20_and_page_balances_are_kept():
    data = (":20:A\n:25:ACC\n:28C:1/1\n:60F:D260101EUR12,00\n:62M:D260101EUR12,00\n-\n"
            ":20:A\n:25:ACC\n:28C:1/2\n:60M:D260101EUR12,00\n:61:260102C2,00NTRFNONREF\n:62F:D260102EUR10,00\n-\n")
    stmts = parse_statement(data.encode()).statements
    assert [s.opening_balance for s in stmts] == [Decimal("-12.00"), Decimal("-12.00")]
    assert [s.closing_balance for s in stmts] == [Decimal("-12.00"), Decimal("-10.00")]
    assert all(s.balanced for s in stmts)


def test_cp852_encoded_file_decodes_to_hungarian_letters():
    text = ":20:X\n:25:HU\n:28C:1\n:60F:C260101HUF0,\n:61:260102C1,NTRFNONREF\n:86:Bankon belüli átutalás\n:62F:C260102HUF1,\n"
    (line,) = lines(text.encode("cp852"))
    assert line.remittance_info == "Bankon belüli átutalás"


def test_missing_opening_balance_is_quarantined_with_the_statement_number():
    data = b":20:A\n:25:ACC\n:28C:1\n:60F:C260101EUR1,\n:62F:C260101EUR1,\n:20:B\n:25:ACC\n:61:260102C1,NTRFNONREF\n"
    with pytest.raises(StatementParseError, match="statement 2 has no :60F:/:60M: opening balance"):
        parse_statement(data)


def test_mt942_has_no_balances_but_keeps_its_counts_as_control_totals():
    data = (b":20:R\n:25:ACC\n:28C:1/1\n:34F:EURD0,00\n:13D:2601021200+0100\n"
            b":61:2601020102D0,42NMSCNONREF\n:90D:1EUR0,42\n:90C:0EUR0,\n-\n")
    parsed = parse_statement(data)
    stmt = parsed.statements[0]
    assert parsed.format == "MT942"
    assert stmt.opening_balance is None and stmt.closing_balance is None
    assert stmt.currency == "EUR"
    assert (stmt.control_entry_count, stmt.control_sum) == (1, Decimal("-0.42"))
