"""camt.052/053/054 mapping rules that matter for matching: signs, reversals, batches,
counterparties across versions, references, balances and control totals."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from recon_pipeline.statements import StatementParseError, parse_statement


def camt053(entries: str, version: str = "001.08", balances: str | None = None, extra: str = "") -> bytes:
    if balances is None:
        balances = bal("OPBD", "100.00") + bal("CLBD", "50.00")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.{version}">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-01-02T10:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>S1</Id><ElctrncSeqNb>7</ElctrncSeqNb>
   <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
   {balances}{extra}{entries}
  </Stmt>
 </BkToCstmrStmt>
</Document>""".encode()


def bal(code: str, amount: str, ind: str | None = "CRDT", day: str = "2026-01-02") -> str:
    indicator = f"<CdtDbtInd>{ind}</CdtDbtInd>" if ind else ""
    return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{amount}</Amt>"
            f"{indicator}<Dt><Dt>{day}</Dt></Dt></Bal>")


def ntry(amount: str, ind: str, details: str = "", extra: str = "", sts: str = "<Sts><Cd>BOOK</Cd></Sts>") -> str:
    dtls = f"<NtryDtls>{details}</NtryDtls>" if details else ""
    return (f"<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd>{extra}{sts}"
            f"<BookgDt><Dt>2026-01-02</Dt></BookgDt><ValDt><DtTm>2026-01-03T09:00:00+01:00</DtTm></ValDt>"
            f"<AcctSvcrRef>BANKREF1</AcctSvcrRef>"
            f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f"{dtls}</Ntry>")


def tx(e2e: str, amount: str | None = None, parties: str = "", rmt: str = "", rtr: str = "", ind: str = "") -> str:
    amt = f"<AmtDtls><TxAmt><Amt Ccy=\"EUR\">{amount}</Amt></TxAmt></AmtDtls>" if amount else ""
    indicator = f"<CdtDbtInd>{ind}</CdtDbtInd>" if ind else ""
    return (f"<TxDtls><Refs><InstrId>I-{e2e}</InstrId><EndToEndId>{e2e}</EndToEndId>"
            f"<UETR>3b1e3d9e-0000-4000-8000-000000000001</UETR></Refs>{amt}{indicator}"
            f"<RltdPties>{parties}</RltdPties>{rmt}{rtr}</TxDtls>")


def only_line(data: bytes):
    parsed = parse_statement(data, "stmt.xml")
    assert len(parsed.statements) == 1 and len(parsed.statements[0].lines) == 1
    return parsed.statements[0].lines[0]


def test_debit_entry_is_negative_and_keeps_bank_reference_and_code():
    line = only_line(camt053(ntry("50.00", "DBIT")))
    assert line.amount == Decimal("-50.00")
    assert line.currency == "EUR"
    assert line.bank_reference == "BANKREF1"
    assert line.transaction_code == "PMNT-ICDT-ESCT"
    assert line.booking_date == dt.date(2026, 1, 2)
    assert line.value_date == dt.date(2026, 1, 3)  # DtTm -> the date as the bank wrote it


def test_reversal_keeps_the_booked_sign_and_is_flagged():
    line = only_line(camt053(ntry("50.00", "CRDT", extra="<RvslInd>true</RvslInd>")))
    assert line.amount == Decimal("50.00")
    assert line.is_reversal is True


def test_batch_entry_gives_one_detail_per_txdtls_and_batch_fields():
    batch = ("<Btch><MsgId>MSG-9</MsgId><PmtInfId>PMTINF-9</PmtInfId><NbOfTxs>2</NbOfTxs></Btch>"
             + tx("E2E-1", "30.00", "<Cdtr><Nm>Alpha GmbH</Nm></Cdtr><CdtrAcct><Id><IBAN>DE02100100100006820101</IBAN></Id></CdtrAcct>")
             + tx("E2E-2", "20.00", "<Cdtr><Nm>Beta BV</Nm></Cdtr>"))
    line = only_line(camt053(ntry("50.00", "DBIT", details=batch)))
    assert line.batch_id == "PMTINF-9"
    assert line.batch_count == 2
    assert [d.end_to_end_id for d in line.details] == ["E2E-1", "E2E-2"]
    assert [d.amount for d in line.details] == [Decimal("-30.00"), Decimal("-20.00")]
    assert line.details[0].counterparty_name == "Alpha GmbH"
    assert line.details[0].counterparty_iban == "DE02100100100006820101"
    assert line.details[0].instruction_id == "I-E2E-1"
    # several underlying payments: nothing single is copied onto the line
    assert line.end_to_end_id is None and line.counterparty_name is None


def test_single_txdtls_is_copied_onto_the_line():
    detail = tx("E2E-7", parties="<Dbtr><Nm>Customer Ltd</Nm></Dbtr><DbtrAcct><Id><IBAN>GB33BUKB20201555555555</IBAN></Id></DbtrAcct>",
                rmt="<RmtInf><Ustrd>Invoice 1</Ustrd><Ustrd>and 2</Ustrd></RmtInf>")
    line = only_line(camt053(ntry("75.00", "CRDT", details=detail)))
    assert line.end_to_end_id == "E2E-7"
    assert line.counterparty_name == "Customer Ltd"        # credit: the debtor is the other side
    assert line.counterparty_iban == "GB33BUKB20201555555555"
    assert line.remittance_info == "Invoice 1 and 2"
    assert line.details[0].uetr == "3b1e3d9e-0000-4000-8000-000000000001"


def test_v08_party_names_under_pty_are_found():
    detail = tx("E2E-8", parties="<Cdtr><Pty><Nm>Supplier SA</Nm></Pty></Cdtr>"
                                 "<Dbtr><Pty><Nm>Us</Nm></Pty></Dbtr>")
    line = only_line(camt053(ntry("10.00", "DBIT", details=detail)))
    assert line.counterparty_name == "Supplier SA"         # debit: the creditor is the other side


def test_party_with_our_own_iban_is_not_the_counterparty():
    parties = ("<Dbtr><Nm>Us</Nm></Dbtr><DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>"
               "<Cdtr><Nm>Them</Nm></Cdtr>")
    line = only_line(camt053(ntry("10.00", "CRDT", details=tx("E", parties=parties))))
    assert line.counterparty_name == "Them"


def test_notprovided_end_to_end_id_is_none_and_structured_reference_is_remittance():
    detail = tx("NOTPROVIDED", rmt="<RmtInf><Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd></RmtInf>")
    line = only_line(camt053(ntry("10.00", "CRDT", details=detail)))
    assert line.end_to_end_id is None
    assert line.remittance_info == "RF18539007547034"


def test_return_reason_is_taken_from_rtrinf():
    detail = tx("E2E-R", rtr="<RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>")
    line = only_line(camt053(ntry("10.00", "CRDT", details=detail)))
    assert line.return_reason == "AC04"


def test_detail_with_its_own_indicator_keeps_its_direction():
    details = tx("A", "15.00", ind="CRDT") + tx("B", "25.00", ind="DBIT")
    line = only_line(camt053(ntry("10.00", "DBIT", details=details)))
    assert [d.amount for d in line.details] == [Decimal("15.00"), Decimal("-25.00")]
    assert sum(d.amount for d in line.details) == line.amount


@pytest.mark.parametrize("sts, expected", [
    ("<Sts>PDNG</Sts>", "PDNG"), ("<Sts><Cd>INFO</Cd></Sts>", "INFO"), ("", "BOOK"),
])
def test_status_old_and_new_spelling_and_missing(sts, expected):
    line = only_line(camt053(ntry("1.00", "CRDT", sts=sts)))
    assert line.status == expected


def test_pending_entries_are_entries_but_not_movements():
    data = camt053(ntry("50.00", "DBIT") + ntry("9.00", "DBIT", sts="<Sts>PDNG</Sts>"))
    stmt = parse_statement(data).statements[0]
    assert len(stmt.lines) == 2
    assert stmt.movements == Decimal("-50.00")
    assert stmt.balanced is True


def test_balances_follow_the_preference_order_and_sign():
    balances = bal("PRCD", "10.00", "DBIT") + bal("OPAV", "99.00") + bal("CLAV", "5.00") + bal("ITBD", "7.00")
    stmt = parse_statement(camt053("", balances=balances)).statements[0]
    assert stmt.opening_balance == Decimal("-10.00")       # PRCD before OPAV
    assert stmt.closing_balance == Decimal("7.00")         # ITBD before CLAV


def test_balance_without_indicator_is_positive_with_a_warning():
    parsed = parse_statement(camt053("", balances=bal("OPBD", "1.00", None) + bal("CLBD", "1.00")))
    assert parsed.statements[0].opening_balance == Decimal("1.00")
    assert any("no CdtDbtInd" in w for w in parsed.warnings)


def test_transaction_summary_becomes_control_totals():
    summary = ("<TxsSummry><TtlNtries><NbOfNtries>2</NbOfNtries>"
               "<TtlNetNtry><Amt>40.00</Amt><CdtDbtInd>DBIT</CdtDbtInd></TtlNetNtry></TtlNtries></TxsSummry>")
    stmt = parse_statement(camt053(ntry("50.00", "DBIT"), extra=summary)).statements[0]
    assert stmt.control_entry_count == 2
    assert stmt.control_sum == Decimal("-40.00")


def test_statement_identity_account_and_format_version():
    parsed = parse_statement(camt053(ntry("1.00", "CRDT"), version="001.02"))
    stmt = parsed.statements[0]
    assert parsed.format == "camt.053.001.02"
    assert (stmt.account, stmt.currency, stmt.statement_id, stmt.sequence) == (
        "DE89370400440532013000", "EUR", "S1", "7")


def test_camt054_notification_and_camt052_report_are_read_alike():
    for root, record, family in (("BkToCstmrDbtCdtNtfctn", "Ntfctn", "camt.054.001.08"),
                                 ("BkToCstmrAcctRpt", "Rpt", "camt.052.001.08")):
        data = (camt053(ntry("5.00", "CRDT")).decode()
                .replace("BkToCstmrStmt", root).replace("<Stmt>", f"<{record}>").replace("</Stmt>", f"</{record}>")
                .replace("camt.053.", family[:9]))
        parsed = parse_statement(data.encode())
        assert parsed.format == family
        assert parsed.statements[0].lines[0].amount == Decimal("5.00")


def test_entry_without_amount_is_named_in_the_reason():
    bad = camt053(ntry("1.00", "CRDT") + "<Ntry><CdtDbtInd>CRDT</CdtDbtInd></Ntry>")
    with pytest.raises(StatementParseError, match="Stmt 1 Ntry 2 has no Amt"):
        parse_statement(bad)


def test_entry_with_unknown_indicator_is_rejected():
    with pytest.raises(StatementParseError, match="CdtDbtInd"):
        parse_statement(camt053(ntry("1.00", "SIDEWAYS")))


def test_a_statement_with_several_records_and_many_entries_keeps_every_line_in_order():
    """Read entry by entry (the parser streams): each record keeps its own lines, balances and
    totals, whatever comes after it in the file."""
    entries = "".join(ntry(f"{n}.00", "CRDT" if n % 2 else "DBIT") for n in range(1, 2001))
    one = camt053(entries, extra="<TxsSummry><TtlNtries><NbOfNtries>2000</NbOfNtries></TtlNtries></TxsSummry>")
    second = ("<Stmt><Id>S2</Id><Acct><Id><IBAN>GB33BUKB20201555555555</IBAN></Id><Ccy>GBP</Ccy></Acct>"
              + bal("CLBD", "7.00") + ntry("7.00", "CRDT") + "</Stmt>")
    data = one.replace(b"</Stmt>\n", b"</Stmt>\n" + second.encode() + b"\n", 1)
    parsed = parse_statement(data, "two.xml")
    first, other = parsed.statements
    assert [line.amount for line in first.lines] == [Decimal(n) * (1 if n % 2 else -1) for n in range(1, 2001)]
    assert first.control_entry_count == 2000 and first.closing_balance == Decimal("50.00")
    assert (other.account, other.currency, [line.amount for line in other.lines]) == \
        ("GB33BUKB20201555555555", "GBP", [Decimal("7.00")])


def test_a_balance_after_the_entries_in_another_currency_is_refused_as_ambiguous():
    """Entries take the account's currency from what precedes them (ISO 20022 order); a balance
    placed after them that names another currency leaves the file ambiguous: quarantined."""
    data = camt053(ntry("5.00", "CRDT"), balances="").replace(b"<Ccy>EUR</Ccy></Acct>", b"</Acct>")
    late = data.replace(b"</Ntry>", b"</Ntry>" + bal("CLBD", "5.00").replace('Ccy="EUR"', 'Ccy="USD"').encode())
    with pytest.raises(StatementParseError, match="balance after its entries"):
        parse_statement(late, "late.xml")


@pytest.mark.parametrize(("broken", "reason"), [
    ('<Amt Ccy="EUR">abc</Amt>', "camt.053: Stmt 1 Ntry 1 has an invalid Amt 'abc'"),
    ("<CdtDbtInd>CRDT</CdtDbtInd>", "camt.053: Stmt 1 Ntry 1"),
])
def test_a_bad_value_is_named_as_itself_not_as_unreadable_xml(broken, reason):
    good = ntry("5.00", "CRDT")
    original = '<Amt Ccy="EUR">5.00</Amt>' if "Amt" in broken else "<CdtDbtInd>CRDT</CdtDbtInd>"
    data = camt053(good.replace(original, broken if "Amt" in broken else ""))
    with pytest.raises(StatementParseError) as raised:
        parse_statement(data, "bad.xml")
    assert str(raised.value).startswith(reason) and "XML cannot be read" not in str(raised.value)


def test_an_entry_currency_in_lower_case_is_the_statements_currency():
    data = camt053(ntry("5.00", "CRDT").replace('Ccy="EUR"', 'Ccy="eur"'), balances="").replace(
        b"<Ccy>EUR</Ccy></Acct>", b"</Acct>").replace(b"</Ntry>", b"</Ntry>" + bal("CLBD", "5.00").encode())
    parsed = parse_statement(data, "lower.xml")
    assert parsed.statements[0].currency == "EUR" and parsed.statements[0].closing_balance == Decimal("5.00")
