"""OFX 1.x (SGML) and 2.x (XML) bank and credit-card statements.

One token scanner reads both: OFX 1.x leaves leaf elements unclosed (``<TRNAMT>-6.60``) and
real exports also forget to close aggregates (``</BANKTRANLIST>``), so an XML parser would
reject files every personal-finance tool accepts. Only the aggregates we need are tracked;
an aggregate that opens where it cannot live closes the ones that were left open.

OFX carries no opening balance, so ``opening_balance`` is always None; the closing balance is
``LEDGERBAL/BALAMT``. Amounts are signed already; a decimal comma is tolerated.
"""
from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal, InvalidOperation

from recon_pipeline.statements.model import (
    ParsedFile,
    Statement,
    StatementLine,
    StatementParseError,
)

_TOKEN_RE = re.compile(r"<(/?)([A-Za-z0-9.]+)\s*>([^<]*)")
_CDATA_RE = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
_STATEMENTS = ("STMTRS", "CCSTMTRS")
# aggregate -> aggregates it may live in
_PARENTS = {
    "BANKACCTFROM": _STATEMENTS,
    "CCACCTFROM": _STATEMENTS,
    "BANKTRANLIST": _STATEMENTS,
    "LEDGERBAL": _STATEMENTS,
    "AVAILBAL": _STATEMENTS,
    "STMTTRN": ("BANKTRANLIST",),
    "PAYEE": ("STMTTRN",),
}
_TRACKED = set(_PARENTS) | set(_STATEMENTS) | {"INVSTMTRS"}


def _decode(data: bytes) -> str:
    """UTF-8 when it is valid (OFX 2 and most modern 1.x files), else the Windows code page
    that OFX 1.x headers almost always declare (``CHARSET:1252``)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _decimal(raw: str, where: str) -> Decimal | None:
    raw = raw.strip().replace(" ", "")
    if not raw:
        return None
    if "," in raw and "." in raw:
        raw = raw.replace(",", "")
    else:
        raw = raw.replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise StatementParseError(f"OFX: {where}: invalid amount {raw!r}") from None
    if not value.is_finite():
        raise StatementParseError(f"OFX: {where}: invalid amount {raw!r}")
    return value


def _date(raw: str | None, where: str) -> dt.date | None:
    """``20090401122017.000[-5:EST]`` -> 2009-04-01 (the date as the bank wrote it)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
    except ValueError:
        raise StatementParseError(f"OFX: {where}: invalid date {raw!r}") from None


def parse_ofx(data: bytes) -> ParsedFile:
    text = _decode(data)
    text = _CDATA_RE.sub(lambda m: html.escape(m.group(1), quote=False), text)
    start = text.upper().find("<OFX>")
    if start < 0:
        raise StatementParseError("OFX: no <OFX> element")
    stack: list[dict] = []
    statements: list[dict] = []
    warnings: list[str] = []
    closed_ofx = False
    for match in _TOKEN_RE.finditer(text, start):
        closing, name, value = match.group(1) == "/", match.group(2).upper(), match.group(3)
        if name == "OFX" and closing:
            closed_ofx = True
        if name not in _TRACKED:
            if not closing and stack:
                stack[-1]["fields"].setdefault(name, html.unescape(value).strip())
            continue
        if closing:
            if any(frame["name"] == name for frame in stack):
                while stack and stack.pop()["name"] != name:
                    pass
            continue
        parents = _PARENTS.get(name)
        if parents:
            while stack and stack[-1]["name"] not in parents:
                stack.pop()
        else:
            stack.clear()
        frame = {"name": name, "fields": {}, "children": []}
        if stack:
            stack[-1]["children"].append(frame)
        elif name in _STATEMENTS:
            statements.append(frame)
        elif name == "INVSTMTRS":
            warnings.append("investment statement (INVSTMTRS) skipped")
        stack.append(frame)
    if not closed_ofx:
        raise StatementParseError("OFX: no closing </OFX> (file truncated?)")
    if not statements:
        raise StatementParseError("OFX: no bank or credit-card statement (STMTRS/CCSTMTRS)")
    return ParsedFile(
        format="OFX",
        statements=[_statement(s, i) for i, s in enumerate(statements, start=1)],
        warnings=warnings,
    )


def _child(frame: dict, *names: str) -> dict | None:
    return next((c for c in frame["children"] if c["name"] in names), None)


def _statement(frame: dict, index: int) -> Statement:
    where = f"statement {index}"
    currency = frame["fields"].get("CURDEF", "").upper()
    if not currency:
        raise StatementParseError(f"OFX: {where} has no CURDEF currency")
    acct = _child(frame, "BANKACCTFROM", "CCACCTFROM")
    account = acct["fields"].get("ACCTID", "") if acct else ""
    lines = []
    tranlist = _child(frame, "BANKTRANLIST")
    for n, trn in enumerate((c for c in (tranlist or {"children": []})["children"] if c["name"] == "STMTTRN"), 1):
        f = trn["fields"]
        tw = f"{where} STMTTRN {n}"
        amount = _decimal(f.get("TRNAMT", ""), tw)
        if amount is None:
            raise StatementParseError(f"OFX: {tw} has no TRNAMT")
        payee = _child(trn, "PAYEE")
        name = f.get("NAME") or (payee["fields"].get("NAME") if payee else None)
        lines.append(StatementLine(
            amount=amount,
            currency=(f.get("CURRENCY") or currency).upper()[:3],
            booking_date=_date(f.get("DTPOSTED"), tw),
            value_date=_date(f.get("DTAVAIL"), tw),
            bank_reference=f.get("FITID") or None,
            customer_reference=f.get("CHECKNUM") or f.get("REFNUM") or None,
            counterparty_name=name or None,
            remittance_info=f.get("MEMO") or None,
            transaction_code=f.get("TRNTYPE") or None,
        ))
    ledger = _child(frame, "LEDGERBAL")
    closing = closing_date = None
    if ledger:
        closing = _decimal(ledger["fields"].get("BALAMT", ""), f"{where} LEDGERBAL")
        closing_date = _date(ledger["fields"].get("DTASOF"), f"{where} LEDGERBAL")
    return Statement(
        account=account,
        currency=currency,
        opening_balance=None,
        closing_balance=closing,
        closing_date=closing_date,
        lines=lines,
        extra={"account_type": acct["fields"].get("ACCTTYPE")} if acct and acct["fields"].get("ACCTTYPE") else {},
    )
