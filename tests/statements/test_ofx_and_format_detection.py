"""Format detection from content (never the file name) and the OFX reader."""
from __future__ import annotations

from decimal import Decimal

import pytest

from recon_pipeline.statements import StatementParseError, detect_format, parse_statement

OFX_SGML = b"""OFXHEADER:100
DATA:OFXSGML
VERSION:102

<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR
<BANKACCTFROM><BANKID>1<ACCTID>ACC-1<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20260101
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260102120000.000[-5:EST]<TRNAMT>-12,50<FITID>F1<NAME>Shop<MEMO>Card</STMTTRN>
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260103<TRNAMT>100.00<FITID>F2</STMTTRN>
<LEDGERBAL><BALAMT>87.50<DTASOF>20260103</LEDGERBAL>
</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""


@pytest.mark.parametrize("data, expected", [
    (b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.13"><BkToCstmrStmt/>', "camt.053.001.13"),
    (b"<Document><BkToCstmrDbtCdtNtfctn/></Document>", "camt.054"),
    (b"{1:F01BANKDEFFXXXX0000000000}{2:I940BANKDEFFXXXXN}{4:\n:20:X\n", "MT940"),
    (b":20:X\n:25:A\n:28C:1\n:34F:EURD0,\n:61:2601020102D1,NTRFNONREF\n", "MT942"),
    (b"01,A,B,260102,0800,1,,,2/\n", "BAI2"),
    (OFX_SGML, "OFX"),
    (b"date,amount\n2026-01-01,1\n", "CSV"),
])
def test_format_is_sniffed_from_content(data, expected):
    assert detect_format(data, "misleading.csv") == expected


def test_ofx_sgml_without_closing_tags_and_decimal_comma():
    parsed = parse_statement(OFX_SGML)
    stmt = parsed.statements[0]
    assert (parsed.format, stmt.account, stmt.currency) == ("OFX", "ACC-1", "EUR")
    assert [line.amount for line in stmt.lines] == [Decimal("-12.50"), Decimal("100.00")]
    assert (stmt.lines[0].bank_reference, stmt.lines[0].counterparty_name) == ("F1", "Shop")
    assert stmt.opening_balance is None and stmt.closing_balance == Decimal("87.50")


def test_ofx_with_unclosed_transaction_list_still_finds_the_ledger_balance():
    data = OFX_SGML.replace(b"<LEDGERBAL>", b"</STMTTRN>\n<LEDGERBAL>").replace(b"</BANKTRANLIST>", b"")
    assert parse_statement(data).statements[0].closing_balance == Decimal("87.50")


def test_truncated_ofx_is_quarantined():
    with pytest.raises(StatementParseError, match="truncated"):
        parse_statement(OFX_SGML[:200])


def test_utf16_csv_is_read_not_mistaken_for_binary():
    data = "date,amount,currency\n2026-01-01,1.00,EUR\n".encode("utf-16")
    assert parse_statement(data).statements[0].lines[0].amount == Decimal("1.00")
