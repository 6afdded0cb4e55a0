"""Render a daily statement as ISO 20022 camt.053.001.08 (BankToCustomerStatement).

Element order follows the 001.08 schema so the files would validate; every timestamp is
derived from the statement date (never the wall clock) so the same scenario gives the same
bytes. Text from outside (names, remittance information) goes through lxml, which escapes it;
the generator deliberately feeds it names such as ``Smith & Sons <UK>``.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from lxml import etree

from recon_pipeline.scenario.writers import Entry, Party, StatementDoc, TxDetail, money

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
NOT_PROVIDED = "NOTPROVIDED"


def write_camt053(statement: StatementDoc) -> bytes:
    """Return the complete XML document (UTF-8, with declaration) for one statement."""
    body = etree.tostring(build_document(statement), xml_declaration=False, encoding="UTF-8",
                          pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def build_document(statement: StatementDoc) -> etree._Element:
    day = statement.statement_date
    iban = statement.account_iban
    paginated = statement.page > 1 or not statement.last_page
    # The bank produces the statement early the next morning (05:30 Amsterdam time).
    created = f"{(day + dt.timedelta(days=1)).isoformat()}T05:30:00+01:00"

    doc = etree.Element(_q("Document"), nsmap={None: NAMESPACE})
    root = _sub(doc, "BkToCstmrStmt")
    hdr = _sub(root, "GrpHdr")
    _sub(hdr, "MsgId", f"C53{day:%Y%m%d}{iban[-10:]}" + (f"P{statement.page:03d}" if paginated else ""))
    _sub(hdr, "CreDtTm", created)
    pgntn = _sub(hdr, "MsgPgntn")
    _sub(pgntn, "PgNb", str(statement.page))
    _sub(pgntn, "LastPgInd", "true" if statement.last_page else "false")

    stmt = _sub(root, "Stmt")
    _sub(stmt, "Id", f"{iban}-{day:%Y%m%d}")
    _sub(stmt, "ElctrncSeqNb", str(statement.sequence))
    _sub(stmt, "CreDtTm", created)
    frto = _sub(stmt, "FrToDt")
    _sub(frto, "FrDtTm", f"{day.isoformat()}T00:00:00+00:00")
    _sub(frto, "ToDtTm", f"{day.isoformat()}T23:59:59+00:00")

    acct = _sub(stmt, "Acct")
    _sub(_sub(acct, "Id"), "IBAN", iban)
    _sub(acct, "Ccy", statement.currency)
    if statement.account_bic:
        _sub(_sub(_sub(acct, "Svcr"), "FinInstnId"), "BICFI", statement.account_bic)

    _balance(stmt, "OPBD" if statement.page == 1 else "ITBD", statement.opening_balance, statement.currency, day)
    _balance(stmt, "CLBD" if statement.last_page else "ITBD", statement.closing_balance, statement.currency, day)
    _summary(stmt, statement)
    for entry in statement.entries:
        _entry(stmt, entry, statement.currency)
    return doc


# --------------------------------------------------------------------------- pieces
def _q(tag: str) -> str:
    return f"{{{NAMESPACE}}}{tag}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    el = etree.SubElement(parent, _q(tag), attrib)
    if text is not None:
        el.text = text
    return el


def _amt(parent: etree._Element, tag: str, amount: Decimal, currency: str) -> None:
    _sub(parent, tag, money(amount), Ccy=currency)


def _ind(amount: Decimal) -> str:
    return "CRDT" if amount >= 0 else "DBIT"


def _balance(stmt: etree._Element, code: str, amount: Decimal, currency: str, day: dt.date) -> None:
    bal = _sub(stmt, "Bal")
    _sub(_sub(_sub(bal, "Tp"), "CdOrPrtry"), "Cd", code)
    _amt(bal, "Amt", amount, currency)
    _sub(bal, "CdtDbtInd", _ind(amount))
    _sub(_sub(bal, "Dt"), "Dt", day.isoformat())


def _summary(stmt: etree._Element, statement: StatementDoc) -> None:
    """TxsSummry: the control totals a loader can check the entries against."""
    entries = statement.entries
    credits = [e.amount for e in entries if e.amount >= 0]
    debits = [e.amount for e in entries if e.amount < 0]
    net = statement.movements
    summ = _sub(stmt, "TxsSummry")
    ttl = _sub(summ, "TtlNtries")
    _sub(ttl, "NbOfNtries", str(len(entries)))
    _sub(ttl, "Sum", money(sum((abs(a) for a in credits + debits), Decimal("0"))))
    net_el = _sub(ttl, "TtlNetNtry")
    _sub(net_el, "Amt", money(net))
    _sub(net_el, "CdtDbtInd", _ind(net))
    for tag, amounts in (("TtlCdtNtries", credits), ("TtlDbtNtries", debits)):
        part = _sub(summ, tag)
        _sub(part, "NbOfNtries", str(len(amounts)))
        _sub(part, "Sum", money(sum((abs(a) for a in amounts), Decimal("0"))))


def _bank_tx_code(parent: etree._Element, family: str, sub_family: str) -> None:
    domn = _sub(_sub(parent, "BkTxCd"), "Domn")
    _sub(domn, "Cd", "PMNT")
    fmly = _sub(domn, "Fmly")
    _sub(fmly, "Cd", family)
    _sub(fmly, "SubFmlyCd", sub_family)


def _entry(stmt: etree._Element, entry: Entry, currency: str) -> None:
    ntry = _sub(stmt, "Ntry")
    _amt(ntry, "Amt", entry.amount, currency)
    _sub(ntry, "CdtDbtInd", _ind(entry.amount))
    _sub(_sub(ntry, "Sts"), "Cd", "BOOK")
    _sub(_sub(ntry, "BookgDt"), "Dt", entry.booking_date.isoformat())
    _sub(_sub(ntry, "ValDt"), "Dt", entry.value_date.isoformat())
    _sub(ntry, "AcctSvcrRef", entry.bank_reference)
    _bank_tx_code(ntry, entry.domain_family, entry.domain_sub_family)

    details = entry.details or (TxDetail(
        end_to_end_id=entry.end_to_end_id,
        amount=abs(entry.amount),
        counterparty=entry.counterparty,
        remittance=entry.remittance,
        return_reason=entry.return_reason,
    ),)
    dtls = _sub(ntry, "NtryDtls")
    if entry.batch_id:
        btch = _sub(dtls, "Btch")
        _sub(btch, "PmtInfId", entry.batch_id)
        _sub(btch, "NbOfTxs", str(len(details)))
        _amt(btch, "TtlAmt", entry.amount, currency)
        _sub(btch, "CdtDbtInd", _ind(entry.amount))
    for detail in details:
        _tx_details(dtls, entry, detail, currency)


def _tx_details(parent: etree._Element, entry: Entry, detail: TxDetail, currency: str) -> None:
    tx = _sub(parent, "TxDtls")
    refs = _sub(tx, "Refs")
    if entry.batch_id:
        _sub(refs, "PmtInfId", entry.batch_id)
    _sub(refs, "EndToEndId", detail.end_to_end_id or NOT_PROVIDED)
    signed = detail.amount if entry.amount >= 0 else -detail.amount
    _amt(tx, "Amt", signed, currency)
    _sub(tx, "CdtDbtInd", _ind(entry.amount))
    _amt(_sub(_sub(tx, "AmtDtls"), "TxAmt"), "Amt", signed, currency)
    if detail.counterparty is not None:
        _related_parties(tx, detail.counterparty, credit=entry.amount >= 0)
    if detail.remittance:
        _sub(_sub(tx, "RmtInf"), "Ustrd", detail.remittance)
    if detail.return_reason:
        _sub(_sub(_sub(tx, "RtrInf"), "Rsn"), "Cd", detail.return_reason)


def _related_parties(tx: etree._Element, party: Party, *, credit: bool) -> None:
    """Money in: the counterparty is the debtor; money out: the creditor."""
    role, account = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
    parties = _sub(tx, "RltdPties")
    if party.name:
        _sub(_sub(_sub(parties, role), "Pty"), "Nm", party.name)
    if party.iban:
        _sub(_sub(_sub(parties, account), "Id"), "IBAN", party.iban)
    if party.bic:
        agents = _sub(tx, "RltdAgts")
        agent = "DbtrAgt" if credit else "CdtrAgt"
        _sub(_sub(_sub(agents, agent), "FinInstnId"), "BICFI", party.bic)
