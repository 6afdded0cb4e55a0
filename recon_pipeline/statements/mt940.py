"""SWIFT MT940 (customer statement) and MT942 (interim transaction report).

Why a hand-written tag parser instead of the ``mt940`` library: real files break it in ways
we cannot patch from outside — SOH/ETX envelope bytes, ``{1:}{2:}{4:`` blocks, ABN/Rabobank
``940`` header lines, a stray line after ``:28C:``, ``:28:`` instead of ``:28C:``, spaces inside
``:61:``, a statement that ends in ``:62M:`` only, CP852 bytes, and a ``-`` line that is text
inside ``:86:`` rather than the end of the message. The format itself is simple (tagged lines,
continuation lines belong to the previous tag), so owning ~300 lines gives us one place
that decides each of these cases, and a one-line reason when a file really is broken.

Signs are from the account's perspective: ``C`` +, ``D`` −, ``RC`` (reversal of a credit,
money leaves) −, ``RD`` (reversal of a debit, money comes back) +; reversals keep
``is_reversal=True``.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from recon_pipeline.iban import iban_shaped
from recon_pipeline.statements.model import (
    UNREADABLE,
    ParsedFile,
    Statement,
    StatementLine,
    StatementParseError,
)

_TAG_RE = re.compile(r"^:(\d{2}[A-Z]?|NS):(.*)$")
_TERMINATOR_RE = re.compile(r"^-(XXX)?\}?\s*$")
_BALANCE_RE = re.compile(r"^\s*([CD])\s*(\d{6})\s*([A-Z]{3})\s*(\d[\d ]*(?:,\d*)?|,\d+)")
_LINE61_RE = re.compile(
    r"""^(?P<vdate>\d{6})\s*
        (?P<edate>\d{4})?\s*
        (?P<mark>RC|RD|EC|ED|C|D)
        (?P<funds>[A-Z])?\s*
        (?P<amount>\d[\d]*(?:,\d*)?|,\d+)\s*
        (?P<type>[A-Z][A-Z0-9 ]{3})?
        (?P<rest>.*)$""",
    re.VERBOSE,
)
_SIGN = {"C": 1, "D": -1, "RC": -1, "RD": 1, "EC": 1, "ED": -1}
_NO_REF = {"NONREF", "NOTPROVIDED", "NOT PROVIDED", ""}
# What some banks put in the :61: customer-reference slot to say "the reference is in :86:".
_REF_PLACEHOLDERS = {"EREF", "PREF", "KREF", "EREF+", "KREF+", "MREF+"}
# SWIFT-structured :86: codes (ING, ABN AMRO, Rabobank, Van Lanschot, ...)
_SWIFT_CODES = (
    "EREF", "PREF", "RTRN", "CNTP", "REMI", "BENM", "ORDP", "TRTP", "IBAN", "BIC", "NAME",
    "ADDR", "MARF", "CSID", "ISDT", "CHGS", "OCMT", "PURP", "ULTC", "ULTD", "ULTB", "SVCL",
    "IREF", "KREF", "BUSP", "CDTRREFTP", "CDTRREF", "EXCH", "ID", "RTRE",
)
_SWIFT_RE = re.compile(r"/(" + "|".join(sorted(_SWIFT_CODES, key=len, reverse=True)) + r")/")
_SWIFT_HINT = re.compile(r"/(EREF|PREF|RTRN|CNTP|REMI|BENM|ORDP|TRTP|NAME|IBAN)/")
_GERMAN_RE = re.compile(r"^\s*(\d{3})?\s*[?~]\d{2}")
_SEPA_KEYS = ("EREF", "KREF", "MREF", "CRED", "DEBT", "SVWZ", "ABWA", "ABWE", "COAM", "OAMT",
              "BREF", "RREF", "PURP", "IBAN", "BIC")
_SEPA_RE = re.compile(r"(?<![A-Z])(" + "|".join(_SEPA_KEYS) + r")\+")


# --------------------------------------------------------------------------- decoding
def decode(data: bytes) -> str:
    """UTF-8, else the better of CP852 (Central European DOS, used by Hungarian/Polish
    exports) and CP1252 (Western Europe) by how many decoded non-ASCII characters are
    letters; ties go to CP1252. Never fails: latin-1 decodes any byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates = []
    for enc in ("cp1252", "cp852"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        high = [ch for ch in text if ord(ch) > 127]
        candidates.append((sum(ch.isalpha() for ch in high), enc == "cp1252", text))
    if candidates:
        return max(candidates, key=lambda c: (c[0], c[1]))[2]
    return data.decode("latin-1")


def _clean(text: str) -> str:
    """Strip transmission envelopes: SOH/ETX bytes, SWIFT ``{1:..}{2:..}{4:`` blocks, ``-}``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "\n", text)
    text = re.sub(r"\{[1235]:(?:[^{}]|\{[^{}]*\})*\}", "\n", text)
    text = text.replace("{4:", "\n")
    text = re.sub(r"(?m)^-\}\s*$", "-", text)
    text = re.sub(r"(?m)^\}\s*$", "", text)
    return text


# --------------------------------------------------------------------------- tag splitting
def _tag_blocks(lines: list[str]) -> list[tuple[str, list[str], int]]:
    """(tag, [first line, continuation lines...], line number) in file order.

    A lone ``-`` ends a message only when the next tag is ``:20:`` (or nothing follows);
    ING exports carry ``-`` as wrapped text inside ``:86:``. Lines after a terminator and
    before the next tag are envelope noise (``ABNANL2A``, ``940``) and are dropped.
    """
    blocks: list[tuple[str, list[str], int]] = []
    skipping = False
    for n, line in enumerate(lines):
        match = _TAG_RE.match(line)
        if match:
            skipping = False
            blocks.append((match.group(1), [match.group(2)], n + 1))
            continue
        if _TERMINATOR_RE.match(line.strip()):
            following = next((m for m in (_TAG_RE.match(x) for x in lines[n + 1:]) if m), None)
            if following is None or following.group(1) == "20":
                skipping = True
                continue
        if skipping or not blocks:
            continue
        blocks[-1][1].append(line)
    return blocks


# --------------------------------------------------------------------------- field parsers
def _amount(raw: str) -> Decimal:
    raw = raw.replace(" ", "")
    if raw.startswith(","):
        raw = "0" + raw
    try:
        return Decimal(raw.replace(",", ".").rstrip(".") or "0")
    except InvalidOperation:
        raise StatementParseError(f"invalid amount {raw!r}") from None


def _yymmdd(raw: str) -> dt.date:
    year = int(raw[:2])
    year += 2000 if year < 80 else 1900
    return dt.date(year, int(raw[2:4]), int(raw[4:6]))


def _entry_date(mmdd: str, value_date: dt.date) -> dt.date:
    """MMDD booking date: the year that puts it closest to the value date (Dec/Jan rollover)."""
    month, day = int(mmdd[:2]), int(mmdd[2:])
    options = []
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        try:
            options.append(dt.date(year, month, day))
        except ValueError:
            continue
    if not options:
        raise ValueError(mmdd)
    return min(options, key=lambda d: abs((d - value_date).days))


def _balance(value: str, where: str) -> tuple[Decimal, dt.date, str]:
    match = _BALANCE_RE.match(value)
    if not match:
        raise StatementParseError(f"{where} is malformed: {value.strip()[:40]!r}")
    mark, date, ccy, amount = match.groups()
    try:
        day = _yymmdd(date)
    except ValueError:
        raise StatementParseError(f"{where} has an invalid date {date!r}") from None
    try:
        number = _amount(amount)
    except StatementParseError as exc:
        raise StatementParseError(f"{where} has an {exc}") from None
    return (-number if mark == "D" else number), day, ccy


def _ref(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return None if value.upper() in _NO_REF else value


# --------------------------------------------------------------------------- :86: parsing
def _parse_swift_structured(text: str) -> dict:
    """``/EREF/x//CNTP/iban/bic/name/city///REMI/USTD//text/`` and Rabobank/Van Lanschot kin."""
    matches = list(_SWIFT_RE.finditer(text))
    fields: dict[str, str] = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        value = text[m.end():end]
        fields.setdefault(m.group(1), value)
    out: dict = {}
    if "EREF" in fields:
        out["end_to_end_id"] = _ref(fields["EREF"].strip("/"))
    if "PREF" in fields:
        out["batch_id"] = _ref(fields["PREF"].strip("/"))
    if "RTRN" in fields:
        out["return_reason"] = _ref(fields["RTRN"].strip("/").split("/")[0])
    if "CNTP" in fields:
        parts = fields["CNTP"].split("/")
        parts += [""] * (4 - len(parts))
        out["counterparty_iban"] = parts[0].strip() or None
        out["counterparty_name"] = parts[2].strip() or None
    if fields.get("IBAN", "").strip("/ "):
        out["counterparty_iban"] = fields["IBAN"].strip("/ ")
    if fields.get("NAME", "").strip("/ "):
        out["counterparty_name"] = fields["NAME"].strip("/ ")
    for party in ("BENM", "ORDP"):
        value = fields.get(party, "").strip("/ ")
        if value and not out.get("counterparty_name"):
            out["counterparty_name"] = value
    if "REMI" in fields:
        remi = fields["REMI"]
        remi = re.sub(r"^(USTD|STRD)/(CUR/|ISO/)?/?", "", remi)
        out["remittance_info"] = remi.strip("/ ") or None
    if "KREF" in fields:
        out["customer_reference"] = _ref(fields["KREF"].strip("/"))
    if "TRTP" in fields:
        out["transaction_text"] = fields["TRTP"].strip("/ ")
    return out


_BREAK = "\n"


def _join_subfields(parts: list[str]) -> str:
    """German ?20..?29 subfields are 27 characters wide and text is cut anywhere, so a full
    subfield is glued to the next one; a shorter one ended on purpose (at a word, or at the
    end of a SEPA keyword value) and is followed by a break marker."""
    out = ""
    previous_length = 27
    for part in parts:
        if out and previous_length < 27:
            out += _BREAK
        out += part
        previous_length = len(part)
    return out.strip()


def _flat(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.replace(_BREAK, " ").split())
    return text or None


# Identifiers end where their subfield ended; free text (SVWZ, ABWA...) runs to the next keyword.
_SEPA_IDENTIFIERS = {"EREF", "KREF", "MREF", "CRED", "DEBT", "BREF", "RREF", "IBAN", "BIC", "PURP"}


def _sepa_keywords(text: str) -> dict[str, str]:
    matches = list(_SEPA_RE.finditer(text))
    fields: dict[str, str] = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        value = text[m.end():end]
        if m.group(1) in _SEPA_IDENTIFIERS:
            value = value.split(_BREAK)[0]
        fields.setdefault(m.group(1), _flat(value) or "")
    return fields


def _parse_german(text: str) -> dict:
    """``GVC?00booking text?10primanota?20..?29 purpose?30 BIC?31 IBAN?32/?33 name?34 code``."""
    match = re.match(r"^\s*(\d{3})?\s*", text)
    gvc = match.group(1) if match else None
    sep = text[match.end()] if text[match.end():match.end() + 1] in ("?", "~") else "?"
    pieces = re.split(rf"\{sep}(\d{{2}})", text[match.end():])
    subfields: dict[str, list[str]] = {}
    for code, value in zip(pieces[1::2], pieces[2::2]):
        subfields.setdefault(code, []).append(value)
    purpose_parts = [
        v for code in sorted(subfields) if "20" <= code <= "29" or "60" <= code <= "63"
        for v in subfields[code]
    ]
    purpose = _join_subfields(purpose_parts)
    out: dict = {"transaction_code": gvc}
    keys = _sepa_keywords(purpose)
    if keys:
        out["end_to_end_id"] = _ref(keys.get("EREF"))
        out["remittance_info"] = keys.get("SVWZ") or _flat(purpose)
        if keys.get("KREF"):
            out["customer_reference"] = _ref(keys["KREF"])
        if keys.get("MREF"):
            out["mandate_id"] = keys["MREF"]
    else:
        out["remittance_info"] = _flat(purpose)
    name = _flat(_join_subfields(subfields.get("32", []) + subfields.get("33", [])))
    if name:
        out["counterparty_name"] = name
    # ?31 is the account (IBAN in SEPA exports); Polish and Luxembourg banks add the IBAN in ?38.
    account = "".join(subfields.get("31", [])).strip()
    iban38 = "".join(subfields.get("38", [])).replace(" ", "").strip()
    if iban_shaped(iban38):
        out["counterparty_iban"] = iban38
    elif account:
        out["counterparty_iban"] = account
    booking_text = "".join(subfields.get("00", [])).strip()
    if booking_text:
        out["booking_text"] = booking_text
        if not out.get("remittance_info"):
            out["remittance_info"] = booking_text
    if subfields.get("34"):
        out["text_key_extension"] = "".join(subfields["34"]).strip()
    return out


def parse_information(lines: list[str]) -> dict:
    """Map one transaction's ``:86:`` text to StatementLine fields (only those found)."""
    glued = "".join(lines)  # structured formats wrap at a fixed width: no separator
    if _GERMAN_RE.match(glued):
        return _parse_german(glued)
    if _SWIFT_HINT.search(glued):
        return _parse_swift_structured(glued)
    plain = " ".join(line.strip() for line in lines if line.strip())
    out: dict = {"remittance_info": plain or None}
    keys = _sepa_keywords(glued)
    if keys.get("EREF"):
        out["end_to_end_id"] = _ref(keys["EREF"])
    return out


# --------------------------------------------------------------------------- statements
def _page_of(sequence: str | None) -> int | None:
    """``:28C:00305/002`` -> 2: the page (message) number after the statement number."""
    if not sequence or "/" not in sequence:
        return None
    page = sequence.split("/", 1)[1].strip()
    return int(page) if page.isdigit() and 0 < int(page) < 100000 else None


class _Builder:
    def __init__(self, index: int, reference: str):
        self.index = index
        self.where = f"statement {index}"
        self.reference = reference.strip()
        self.account: str | None = None
        self.sequence: str | None = None
        self.opening: tuple[Decimal, dt.date, str] | None = None
        self.closing: tuple[Decimal, dt.date, str] | None = None
        self.currency: str | None = None
        self.transactions: list[dict] = []
        self.info: list[str] = []
        self.extra: dict = {}
        self.counts: dict[str, tuple[int, Decimal]] = {}
        self.open_txn: dict | None = None

    def add(self, tag: str, lines: list[str], line_no: int) -> None:
        first = lines[0]
        where = f"{self.where} :{tag}: (line {line_no})"
        if tag == "25":
            self.account = first.strip()
        elif tag in ("28", "28C"):
            self.sequence = first.strip() or None
        elif tag in ("60F", "60M", "60"):
            self.opening = _balance(first, where)
            self.currency = self.currency or self.opening[2]
            self.open_txn = None
        elif tag in ("62F", "62M", "62"):
            self.closing = _balance(first, where)
            self.currency = self.currency or self.closing[2]
            self.open_txn = None
        elif tag in ("64", "65"):
            self.extra.setdefault(f"balance_{tag}", []).append(first.strip())
            self.open_txn = None
        elif tag == "61":
            self.open_txn = self._transaction(lines, where)
            self.transactions.append(self.open_txn)
        elif tag == "86":
            if self.open_txn is not None:
                self.open_txn["info"].extend(lines)
            else:
                self.info.append("\n".join(lines))
        elif tag in ("90D", "90C"):
            match = re.match(r"^\s*(\d+)\s*([A-Z]{3})\s*(\d[\d,]*)", first)
            if match:
                self.counts[tag] = (int(match.group(1)), _amount(match.group(3)))
                self.currency = self.currency or match.group(2)
        elif tag == "34F":
            match = re.match(r"^\s*([A-Z]{3})", first)
            if match:
                self.currency = self.currency or match.group(1)
        else:
            self.extra.setdefault(tag, []).append("\n".join(lines))
            if tag == "NS" and self.open_txn is not None:
                self.open_txn.setdefault("ns", []).extend(lines)

    def _transaction(self, lines: list[str], where: str) -> dict:
        first = lines[0].strip()
        match = _LINE61_RE.match(first)
        if not match:
            raise StatementParseError(f"{where} is malformed: {first[:40]!r}")
        # A date that is not on the calendar makes only this entry unreadable (when it was
        # booked is unknown): it is kept, marked, and quarantined alone by the loader.
        unreadable = None
        entry = None
        try:
            value_date = _yymmdd(match.group("vdate"))
        except ValueError:
            value_date = None
            unreadable = f"{where} has a value date not on the calendar {match.group('vdate')!r}"
        if match.group("edate") and value_date is not None:
            try:
                entry = _entry_date(match.group("edate"), value_date)
            except ValueError:
                unreadable = f"{where} has an entry date not on the calendar {match.group('edate')!r}"
        try:
            amount = _amount(match.group("amount"))
        except StatementParseError as exc:
            raise StatementParseError(f"{where} has an {exc}") from None
        mark = match.group("mark")
        rest = match.group("rest") or ""
        customer, _, bank = rest.partition("//")
        supplementary = [line.strip() for line in lines[1:] if line.strip()]
        if len(customer) > 16 and not bank:
            # Non-standard (old Rabobank): counter account + name where the reference goes.
            supplementary.insert(0, customer[16:].strip())
            customer = customer[:16]
        return {
            "value_date": value_date,
            "entry_date": entry,
            "mark": mark,
            "funds_code": match.group("funds"),
            "amount": _SIGN[mark] * amount,
            "type": (match.group("type") or "").strip() or None,
            "customer_reference": None if customer.strip().upper() in _REF_PLACEHOLDERS else _ref(customer),
            "bank_reference": _ref(bank.strip() if bank else None),
            "supplementary": " ".join(s for s in supplementary if s) or None,
            "info": [],
            "unreadable": unreadable,
        }

    def build(self, kind: str, fallback_currency: str | None) -> Statement:
        if self.account is None:
            raise StatementParseError(f"{kind}: {self.where} has no :25: account")
        if kind == "MT940" and self.opening is None:
            raise StatementParseError(f"{kind}: {self.where} has no :60F:/:60M: opening balance")
        currency = self.currency or fallback_currency
        if currency is None:
            raise StatementParseError(f"{kind}: {self.where} has no currency (no balance or :34F:/:90: field)")
        lines = [self._line(txn, currency) for txn in self.transactions]
        extra = dict(self.extra)
        if self.info:
            extra["information"] = self.info
        count = total = None
        if self.counts:
            count = sum(c for c, _ in self.counts.values())
            total = self.counts.get("90C", (0, Decimal(0)))[1] - self.counts.get("90D", (0, Decimal(0)))[1]
        return Statement(
            account=self.account,
            currency=currency,
            opening_balance=self.opening[0] if self.opening else None,
            closing_balance=self.closing[0] if self.closing else None,
            opening_date=self.opening[1] if self.opening else None,
            closing_date=self.closing[1] if self.closing else None,
            statement_id=self.reference or None,
            sequence=self.sequence,
            page=_page_of(self.sequence),
            lines=lines,
            control_entry_count=count,
            control_sum=total,
            extra=extra,
        )

    @staticmethod
    def _line(txn: dict, currency: str) -> StatementLine:
        info = parse_information(txn["info"]) if txn["info"] else {}
        extra = {
            k: v for k, v in {
                "mark": txn["mark"],
                "funds_code": txn["funds_code"],
                "type_code": txn["type"],
                "supplementary_details": txn["supplementary"],
                "information": "\n".join(txn["info"]) or None,
                "booking_text": info.get("booking_text"),
                "mandate_id": info.get("mandate_id"),
                "text_key_extension": info.get("text_key_extension"),
                "transaction_text": info.get("transaction_text"),
                "ns": "\n".join(txn["ns"]) if txn.get("ns") else None,
                UNREADABLE: txn.get("unreadable"),
            }.items() if v
        }
        counterparty_iban = info.get("counterparty_iban")
        supplementary = (txn["supplementary"] or "").replace(" ", "")
        if not counterparty_iban and iban_shaped(supplementary):
            counterparty_iban = supplementary  # Rabobank puts the counter IBAN there
        remittance = info.get("remittance_info")
        if not remittance and not txn["info"]:
            remittance = txn["supplementary"]
        return StatementLine(
            amount=txn["amount"],
            currency=currency,
            booking_date=None if txn.get("unreadable") else (txn["entry_date"] or txn["value_date"]),
            value_date=txn["value_date"],
            bank_reference=txn["bank_reference"],
            customer_reference=txn["customer_reference"] or info.get("customer_reference"),
            end_to_end_id=info.get("end_to_end_id"),
            batch_id=info.get("batch_id"),
            return_reason=info.get("return_reason"),
            counterparty_name=info.get("counterparty_name"),
            counterparty_iban=counterparty_iban,
            remittance_info=remittance,
            transaction_code=info.get("transaction_code") or txn["type"],
            is_reversal=txn["mark"] in ("RC", "RD"),
            extra=extra,
        )


def detect_kind(text: str) -> str:
    """MT942 when the message says so or has the interim-report fields and no balances."""
    if re.search(r"\{2:[IO]942", text):
        return "MT942"
    if re.search(r"\{2:[IO]94[01]", text):
        return "MT940"
    has_balance = re.search(r"(?m)^:60[FM]:", text)
    if not has_balance and re.search(r"(?m)^:(34F|13D|90[CD]):", text):
        return "MT942"
    return "MT940"


def parse_mt940(data: bytes, kind: str | None = None) -> ParsedFile:
    text = _clean(decode(data))
    kind = kind or detect_kind(text)
    lines = text.split("\n")
    blocks = _tag_blocks(lines)
    builders: list[_Builder] = []
    ignored_before = 0
    for tag, block_lines, line_no in blocks:
        if tag == "20":
            builders.append(_Builder(len(builders) + 1, block_lines[0]))
            continue
        if not builders:
            ignored_before += 1
            continue
        try:
            builders[-1].add(tag, block_lines, line_no)
        except StatementParseError as exc:
            raise StatementParseError(f"{kind}: {exc}") from None
    if not builders:
        raise StatementParseError(f"{kind}: no statement found (no :20: tag)")
    warnings = []
    if ignored_before:
        warnings.append(f"{ignored_before} tag(s) before the first :20: ignored")
    fallback = next((b.currency for b in builders if b.currency), None)
    statements = [b.build(kind, fallback) for b in builders]
    for stmt in statements:
        if kind == "MT940" and stmt.closing_balance is None:
            warnings.append(f"statement {stmt.statement_id or '?'} has no :62F:/:62M: closing balance")
    return ParsedFile(format=kind, statements=statements, warnings=warnings)
