"""CSV through column-mapping profiles: decimal commas, metadata above the header, pending
rows, balances derived only from a consistent running balance, and user profiles as data."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from recon_pipeline.statements import StatementParseError, parse_statement
from recon_pipeline.statements.csv_profiles import BUILTIN_PROFILES, choose_profile, validate_profile

ING_STYLE = """Umsatzanzeige;Datei erstellt am: 02.01.2026 10:00

IBAN;DE02 1001 0010 0006 8201 01
Saldo;1.210,50;EUR

Buchung;Wertstellungsdatum;Auftraggeber/Empfänger;Buchungstext;Verwendungszweck;Saldo;Währung;Betrag;Währung
02.01.2026;02.01.2026;Shop GmbH;Lastschrift;Order 1;1.210,50;EUR;-1.289,50;EUR
01.01.2026;01.01.2026;Employer AG;Gutschrift;Salary;2.500,00;EUR;2.000,00;EUR
""".encode("iso-8859-1")


def test_decimal_comma_thousands_dot_and_metadata_header_block():
    parsed = parse_statement(ING_STYLE, "umsaetze.csv")
    stmt = parsed.statements[0]
    assert parsed.format == "CSV:ing_de"
    assert stmt.account == "DE02100100100006820101"
    assert [line.amount for line in stmt.lines] == [Decimal("-1289.50"), Decimal("2000.00")]
    assert stmt.lines[0].booking_date == dt.date(2026, 1, 2)
    assert stmt.lines[0].counterparty_name == "Shop GmbH"
    assert stmt.lines[1].currency == "EUR"                     # the second "Währung" column
    # newest first: closing = newest balance, opening = oldest balance − its amount
    assert (stmt.opening_balance, stmt.closing_balance) == (Decimal("500.00"), Decimal("1210.50"))
    assert stmt.balanced is True


def test_inconsistent_running_balance_does_not_invent_an_opening():
    data = ING_STYLE.replace(b"2.500,00;EUR;2.000", b"2.400,00;EUR;2.000")
    stmt = parse_statement(data).statements[0]
    assert stmt.opening_balance is None
    assert stmt.closing_balance == Decimal("1210.50")


def test_pending_rows_are_entries_but_not_movements():
    data = (b"Type,Product,Started Date,Completed Date,Description,Amount,Fee,Currency,State,Balance\n"
            b"TRANSFER,Current,2026-01-01 10:00:00,2026-01-01 10:00:01,To X,-10.00,0.00,EUR,COMPLETED,90.00\n"
            b"CARD_PAYMENT,Current,2026-01-02 11:00:00,,Shop,-5.00,0.00,EUR,PENDING,\n"
            b"CARD_PAYMENT,Current,2026-01-02 12:00:00,,Declined,-7.00,0.00,EUR,DECLINED,\n")
    parsed = parse_statement(data, "revolut.csv")
    stmt = parsed.statements[0]
    assert parsed.format == "CSV:revolut"
    assert [line.status for line in stmt.lines] == ["BOOK", "PDNG"]
    assert stmt.lines[1].booking_date == dt.date(2026, 1, 2)  # falls back to Started Date
    assert stmt.movements == Decimal("-10.00")
    assert stmt.opening_balance == Decimal("100.00") and stmt.closing_balance == Decimal("90.00")
    assert any("skipped" in w for w in parsed.warnings)


def test_generic_profile_reads_plain_english_headers():
    data = (b"date,amount,currency,reference,end_to_end_id,counterparty,description\n"
            b"2026-01-02,\"1,525.00\",USD,B-1,E2E-1,Acme Inc,Invoice 9\n"
            b"2026-01-03,-33.50,USD,B-2,,Vendor,\n")
    parsed = parse_statement(data, "export.csv")
    first, second = parsed.statements[0].lines
    assert parsed.format == "CSV:generic"
    assert (first.amount, first.bank_reference, first.end_to_end_id) == (Decimal("1525.00"), "B-1", "E2E-1")
    assert (first.counterparty_name, first.remittance_info) == ("Acme Inc", "Invoice 9")
    assert second.amount == Decimal("-33.50") and second.end_to_end_id is None


def test_day_first_and_month_first_dates_are_told_apart_by_the_column():
    data = b"Date;Amount;Currency\n13/01/2026;1,00;EUR\n02/01/2026;2,00;EUR\n"
    assert [l.booking_date for l in parse_statement(data).statements[0].lines] == [
        dt.date(2026, 1, 13), dt.date(2026, 1, 2)]
    data = b"Date,Amount,Currency\n01/13/2026,1.00,USD\n01/02/2026,2.00,USD\n"
    assert [l.booking_date for l in parse_statement(data).statements[0].lines] == [
        dt.date(2026, 1, 13), dt.date(2026, 1, 2)]


def test_separate_debit_and_credit_columns():
    data = b"Booking Date;Debit;Credit;Currency\n02.01.2026;12,50;;EUR\n03.01.2026;;7,00;EUR\n"
    assert [l.amount for l in parse_statement(data).statements[0].lines] == [Decimal("-12.50"), Decimal("7.00")]


def test_user_profile_from_config_is_data_with_the_same_keys():
    profiles = {"mybank": {
        "delimiter": "|", "decimal_separator": ",", "date_format": "%Y%m%d",
        "header_signature": ["BOOKED", "AMT"],
        "columns": {"booking_date": "BOOKED", "amount": "AMT", "bank_reference": "REF"},
        "currency": "CHF", "account": "CH9300762011623852957",
    }}
    data = b"BOOKED|AMT|REF\n20260102|-1,5|R1\n"
    parsed = parse_statement(data, "x.txt", csv_profiles=profiles)
    stmt = parsed.statements[0]
    assert parsed.format == "CSV:mybank"
    assert (stmt.account, stmt.currency, stmt.lines[0].amount, stmt.lines[0].bank_reference) == (
        "CH9300762011623852957", "CHF", Decimal("-1.5"), "R1")
    assert choose_profile(data, profiles) == "mybank"


def test_explicit_unknown_profile_is_a_one_line_reason():
    with pytest.raises(StatementParseError, match="unknown profile 'nope'"):
        parse_statement(b"a;b\n1;2\n", csv_profile="nope")


def test_profile_with_unknown_keys_is_reported():
    assert validate_profile("x", {"colums": {}}) == ["CSV profile 'x': unknown key 'colums'"]
    assert all(validate_profile(name, p) == [] for name, p in BUILTIN_PROFILES.items())


def test_row_with_an_unparseable_amount_quarantines_the_file_naming_the_row():
    with pytest.raises(StatementParseError, match="row 3: invalid amount"):
        parse_statement(b"date,amount,currency\n2026-01-01,1.00,EUR\n2026-01-02,abc,EUR\n")


def test_csv_without_currency_is_rejected_rather_than_guessed():
    with pytest.raises(StatementParseError, match="no currency"):
        parse_statement(b"date,amount\n2026-01-01,1.00\n")
