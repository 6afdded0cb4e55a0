"""BAI2 cash-management balance reports (US/Canada; also Citi and SVB exports).

Hand-written because the ``bai2`` library rejects real files we must read: distributed
availability (funds type ``D``), records without the trailing ``/``, a ``/`` inside the text
field, an ``88:`` continuation with a colon, and trailers whose record counts disagree. The
format is line records with comma fields; the only subtle parts are continuation records
(``88`` continues the *fields* of the record before it, not just its text) and the text field
of a ``16`` record, which is always last and may itself contain commas and slashes.

Trailer totals are checked here, where the records are, and handed to the integrity gates
as ``Statement.extra["control_checks"]`` so that a mismatch is flagged rather than fatal.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from recon_pipeline.statements.model import (
    ParsedFile,
    Statement,
    StatementLine,
    StatementParseError,
)

DEFAULT_CURRENCY = "USD"  # the BAI2 specification's default when no currency is given
_MINOR_UNITS = {
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3, "CLF": 4,
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}
_OPENING_CODES = ("010", "040")
_CLOSING_CODES = ("015", "045", "060")
_KEY_VALUE = re.compile(r"^([A-Z]{2,5})\s*:\s*(.*)$")


def _strip_terminator(body: str) -> str:
    body = body.rstrip()
    return body[:-1] if body.endswith("/") else body


def _scale(ccy: str) -> int:
    return _MINOR_UNITS.get(ccy, 2)


def _amount(raw: str | None, ccy: str, where: str) -> Decimal | None:
    """Implied decimals: ``+000000012345`` in USD is 123.45; blank means no value."""
    if raw is None:
        return None
    raw = raw.strip()
    if not raw:
        return None
    if not re.fullmatch(r"[+-]?\d+", raw):
        raise StatementParseError(f"BAI2: {where}: invalid amount {raw!r}")
    return Decimal(int(raw)).scaleb(-_scale(ccy))


def _date(raw: str | None, where: str) -> dt.date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        year = int(raw[:2])
        return dt.date(2000 + year if year < 80 else 1900 + year, int(raw[2:4]), int(raw[4:6]))
    except (ValueError, IndexError):
        raise StatementParseError(f"BAI2: {where}: invalid date {raw!r}") from None


def _funds_extra(funds: str, tokens: list[str], i: int) -> int:
    """How many fields the availability (funds type) adds after it, starting at ``tokens[i]``."""
    funds = funds.strip().upper()
    if funds == "S":
        return 3
    if funds == "V":
        return 2
    if funds == "D":
        try:
            return 1 + 2 * int(tokens[i].strip() or 0)
        except (ValueError, IndexError):
            return 1
    return 0


def _direction(type_code: str) -> int | None:
    """+1 credit, -1 debit, None for status / non-monetary codes (BAI type code ranges)."""
    if not type_code.isdigit():
        return None
    code = int(type_code)
    if 100 <= code <= 399 or 920 <= code <= 959:
        return 1
    if 400 <= code <= 699 or 960 <= code <= 999:
        return -1
    return None


class _Detail:
    """A ``16`` record plus its ``88`` continuations.

    Until the text field is reached, a continuation adds fields (a bank may break the record
    right after the availability amounts); after that it adds a line of text.
    """

    def __init__(self, body: str, line_no: int):
        self.line_no = line_no
        self.raw = _strip_terminator(body)
        self.text_lines: list[str] | None = None
        self.records = 1
        self._split()

    def continue_with(self, body: str) -> None:
        self.records += 1
        body = _strip_terminator(body)
        if self.text_lines is not None:
            self.text_lines.append(body)
        else:
            self.raw = f"{self.raw},{body}"
            self._split()

    def _split(self) -> None:
        tokens: list[str] = []
        rest: str | None = self.raw

        def take() -> str | None:
            nonlocal rest
            if rest is None:
                return None
            head, sep, tail = rest.partition(",")
            rest = tail if sep else None
            tokens.append(head)
            return head

        take()  # type code
        take()  # amount
        funds = take()
        if funds is not None:
            for _ in range(_funds_extra(funds, [rest.partition(",")[0] if rest is not None else ""], 0)):
                if take() is None:
                    break
        take()  # bank reference
        take()  # customer reference
        self.tokens = tokens
        if rest is not None:
            self.text_lines = [rest]

    def line(self, ccy: str, as_of: dt.date | None, warnings: list[str]) -> tuple[StatementLine, Decimal]:
        where = f"line {self.line_no}"
        tokens = self.tokens + [""] * 3
        type_code = tokens[0].strip()
        amount = _amount(tokens[1], ccy, where)
        if amount is None:
            raise StatementParseError(f"BAI2: {where}: 16 record has no amount")
        funds = tokens[2].strip().upper()
        extra_count = _funds_extra(funds, tokens, 3)
        refs = self.tokens[3 + extra_count:] + ["", ""]
        value_date = _date(tokens[3], where) if funds == "V" else None
        text_lines = [t.strip() for t in (self.text_lines or []) if t.strip()]
        fields = {}
        for text in text_lines:
            match = _KEY_VALUE.match(text)
            if match and match.group(2).strip():
                fields.setdefault(match.group(1), match.group(2).strip())
        direction = _direction(type_code)
        status = "BOOK"
        if direction is None:
            warnings.append(f"{where}: type code {type_code!r} is not a credit or debit; kept as INFO")
            direction, status = 1, "INFO"
        name = fields.get("DBNM") if direction > 0 else fields.get("CRNM")
        line = StatementLine(
            amount=direction * amount,
            currency=ccy,
            booking_date=as_of,
            value_date=value_date,
            bank_reference=refs[0].strip() or None,
            customer_reference=refs[1].strip() or None,
            end_to_end_id=fields.get("EREF"),
            counterparty_name=name,
            remittance_info=fields.get("REMI") or (" ".join(text_lines) or None),
            transaction_code=type_code or None,
            status=status,
            extra={"funds_type": funds} if funds else {},
        )
        if fields and "REMI" in fields:
            line.extra["text"] = " ".join(text_lines)
        return line, amount


class _Account:
    def __init__(self, body: str, line_no: int, group_ccy: str, as_of: dt.date | None):
        self.line_no = line_no
        self.tokens = _strip_terminator(body).split(",")
        self.group_ccy = group_ccy
        self.as_of = as_of
        self.details: list[_Detail] = []
        self.records = 1
        self.trailer: tuple[Decimal | None, int | None] | None = None

    def continue_with(self, body: str) -> None:
        self.records += 1
        self.tokens += _strip_terminator(body).split(",")

    @property
    def number(self) -> str:
        return self.tokens[0].strip()

    @property
    def currency(self) -> str:
        ccy = self.tokens[1].strip().upper() if len(self.tokens) > 1 else ""
        return ccy or self.group_ccy

    def summaries(self) -> tuple[dict[str, Decimal], Decimal]:
        """Type code -> amount, and the sum of all summary amounts (for the 49 total)."""
        where = f"line {self.line_no}"
        out: dict[str, Decimal] = {}
        total = Decimal(0)
        t = self.tokens
        i = 2
        while i < len(t):
            code = t[i].strip()
            i += 1
            if not code:
                continue
            if not code.isdigit():
                raise StatementParseError(f"BAI2: {where}: 03 record has an invalid type code {code!r}")
            amount = _amount(t[i] if i < len(t) else None, self.currency, where)
            funds = t[i + 2] if i + 2 < len(t) else ""
            i += 3
            i += _funds_extra(funds, t, i)
            if amount is not None:
                out.setdefault(code, amount)
                total += amount
        return out, total

    def statement(self, warnings: list[str]) -> Statement:
        ccy = self.currency
        summaries, summary_total = self.summaries()
        lines, detail_total = [], Decimal(0)
        for detail in self.details:
            line, unsigned = detail.line(ccy, self.as_of, warnings)
            lines.append(line)
            detail_total += unsigned
        opening_code = next((c for c in _OPENING_CODES if c in summaries), None)
        closing_code = next((c for c in _CLOSING_CODES if c in summaries), None)
        checks = []
        if self.trailer is not None:
            control, count = self.trailer
            if control is not None:
                checks.append({
                    "check": "BAI2 49 account control total (sum of 03/16 amounts)",
                    "expected": control,
                    "actual": summary_total + detail_total,
                })
            if count is not None:
                seen = self.records + sum(d.records for d in self.details) + 1
                checks.append({"check": "BAI2 49 record count", "expected": count, "actual": seen})
        extra = {"summaries": {k: str(v) for k, v in summaries.items()}, "control_checks": checks}
        if opening_code:
            extra["opening_code"] = opening_code
        if closing_code:
            extra["closing_code"] = closing_code
        return Statement(
            account=self.number,
            currency=ccy,
            opening_balance=summaries.get(opening_code) if opening_code else None,
            closing_balance=summaries.get(closing_code) if closing_code else None,
            opening_date=self.as_of,
            closing_date=self.as_of,
            lines=lines,
            extra=extra,
        )


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_STRAY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_KNOWN_RECORDS = ("01", "02", "03", "16", "49", "98", "99")


def parse_bai2(data: bytes) -> ParsedFile:
    """Parse a BAI2 file, tolerating what real banks send when it leaves nothing ambiguous:
    stray control characters (removed), records of an unknown type (skipped), a missing or
    repeated 99 file trailer (every account still closed by its 49 trailer). Each is a
    warning on the file; a missing 49 account trailer (a truncated account) is not tolerated."""
    text = _decode(data).replace("\r\n", "\n").replace("\r", "\n")
    warnings: list[str] = []
    stray = len(_STRAY_CONTROL.findall(text))
    if stray:
        text = _STRAY_CONTROL.sub("", text)
        warnings.append(f"removed {stray} stray control character(s)")
    accounts: list[_Account] = []
    group_ccy = DEFAULT_CURRENCY
    as_of: dt.date | None = None
    current: _Account | None = None
    last: _Account | _Detail | None = None
    group_accounts: list[_Account] = []
    file_trailer = False
    seen_header = False
    for n, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.strip()
        if not line:
            continue
        code, body = line[:2], line[3:] if len(line) > 2 else ""
        if code == "88":
            if last is None:
                raise StatementParseError(f"BAI2: line {n}: 88 continuation without a record to continue")
            if line[2:3] not in (",", ":"):
                body = line[2:]
            last.continue_with(body)
            continue
        if line[2:3] not in (",", "") or not code.isdigit():
            raise StatementParseError(f"BAI2: line {n}: not a BAI2 record: {line[:30]!r}")
        last = None
        if code not in _KNOWN_RECORDS:
            warnings.append(f"line {n}: unknown record type {code!r} skipped")
            continue
        if file_trailer:
            warnings.append(f"line {n}: {code} record after the 99 file trailer")
        fields = _strip_terminator(body).split(",")
        if code == "01":
            seen_header = True
        elif not seen_header:
            raise StatementParseError("BAI2: file does not start with an 01 file header")
        elif code == "02":
            as_of = _date(fields[3] if len(fields) > 3 else None, f"line {n}")
            ccy = fields[5].strip().upper() if len(fields) > 5 else ""
            group_ccy = ccy or DEFAULT_CURRENCY
            group_accounts = []
        elif code == "03":
            if current is not None:
                raise StatementParseError(f"BAI2: line {n}: account {current.number} has no 49 trailer")
            current = _Account(body, n, group_ccy, as_of)
            accounts.append(current)
            group_accounts.append(current)
            last = current
        elif code == "16":
            if current is None:
                raise StatementParseError(f"BAI2: line {n}: 16 detail outside an account (no 03 before it)")
            detail = _Detail(body, n)
            current.details.append(detail)
            last = detail
        elif code == "49":
            if current is None:
                raise StatementParseError(f"BAI2: line {n}: 49 trailer without an account")
            ccy = current.currency
            control = _amount(fields[0] if fields else None, ccy, f"line {n}")
            count = fields[1].strip() if len(fields) > 1 else ""
            current.trailer = (control, int(count) if count.isdigit() else None)
            current = None
        elif code == "98":
            if current is not None:
                raise StatementParseError(f"BAI2: line {n}: account {current.number} has no 49 trailer")
            control = _amount(fields[0] if fields else None, group_ccy, f"line {n}")
            totals = [a.trailer[0] for a in group_accounts if a.trailer and a.trailer[0] is not None]
            if control is not None and totals and sum(totals) != control:
                warnings.append(f"line {n}: 98 group control total {control} != sum of 49 totals {sum(totals)}")
        elif code == "99":
            file_trailer = True
    if current is not None:
        raise StatementParseError(f"BAI2: account {current.number} has no 49 trailer (file truncated?)")
    if not file_trailer and accounts:
        warnings.append("no 99 file trailer (every account has its 49 trailer; file-level totals not checked)")
    if not accounts:
        raise StatementParseError("BAI2: no account (03) records")
    statements = [account.statement(warnings) for account in accounts]
    return ParsedFile(format="BAI2", statements=statements, warnings=warnings)
