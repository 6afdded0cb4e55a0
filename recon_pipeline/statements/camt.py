"""ISO 20022 bank-to-customer cash management messages: camt.053, camt.052 and camt.054.

One parser serves all three because they share the entry model: a statement (``Stmt``), an
intraday report (``Rpt``) and a debit/credit notification (``Ntfctn``) each hold an account,
optional balances and ``Ntry`` elements. Versions 001.02 to 001.13 differ mostly in where a
name sits (``Cdtr/Nm`` became ``Cdtr/Pty/Nm`` in v08, ``Sts`` became ``Sts/Cd`` in v08), so
elements are matched by local name, never by namespace, and every lookup tolerates both
spellings.

Security: bank files come from outside. A DOCTYPE or ENTITY declaration has no business in
a camt message and is how entity-expansion bombs and XXE attacks are delivered, so any such
declaration is rejected before the parser sees the bytes; the parser itself also never
loads DTDs, resolves entities or touches the network.
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import itertools
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from lxml import etree

from recon_pipeline.statements.model import (
    LineDetail,
    ParsedFile,
    Statement,
    StatementLine,
    StatementParseError,
)

# Root message element -> (message family, record element)
_MESSAGES = {
    "BkToCstmrStmt": ("camt.053", "Stmt"),
    "BkToCstmrAcctRpt": ("camt.052", "Rpt"),
    "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn"),
}
_VERSION_RE = re.compile(r"camt\.05[234]\.\d{3}\.\d{2}")
_DECL_RE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_OPENING_CODES = ("OPBD", "PRCD", "OPAV")
_NOT_PROVIDED = {"NOTPROVIDED", "NOT PROVIDED", "NONREF"}


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


@functools.lru_cache(maxsize=512)
def _any_namespace(name: str) -> str:
    return "{*}" + name


def _kids(el, name: str) -> list:
    return [] if el is None else list(el.iterchildren(_any_namespace(name)))


def _kid(el, *path: str):
    """First element reached by following local names ``path`` from ``el`` (or None).

    One ``iterchildren`` per step (``{*}`` matches any namespace or none), filtered in lxml's
    C code: half the time of ``find`` with an ElementPath of the same steps, which is itself
    far quicker than the Python loop it replaced (most of the time of a 500,000-entry
    statement). A camt entry asks ~40 of these."""
    if el is None or not path:  # no path: the element itself (``_text(el)``)
        return el
    if len(path) == 1:
        return next(el.iterchildren(_any_namespace(path[0])), None)
    for child in el.iterchildren(_any_namespace(path[0])):
        # As ElementPath does: the first match under any of the children of that name.
        found = _kid(child, *path[1:])
        if found is not None:
            return found
    return None


def _text(el, *path: str) -> str | None:
    node = _kid(el, *path)
    if node is None or node.text is None:
        return None
    value = " ".join(node.text.split())
    return value or None


def _first_text(el, *paths: tuple[str, ...]) -> str | None:
    for path in paths:
        value = _text(el, *path)
        if value:
            return value
    return None


def _reject_declarations(data: bytes) -> None:
    sample = data
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        sample = data.decode("utf-16", errors="replace").encode("utf-8", errors="replace")
    if _DECL_RE.search(sample):
        raise StatementParseError(
            "XML: DOCTYPE/ENTITY declarations are not allowed in bank statements "
            "(possible entity bomb or external-entity attack)"
        )


def message_version(root, message) -> str:
    """``camt.053.001.08`` from the namespace, else the family name from the element."""
    for el in (message, root):
        match = _VERSION_RE.search(el.tag if isinstance(el.tag, str) else "")
        if match:
            return match.group(0)
    return _MESSAGES[_local(message.tag)][0]


def _date(el) -> dt.date | None:
    """``<X><Dt>2024-01-02</Dt></X>`` or ``<X><DtTm>2024-01-02T10:00:00+01:00</DtTm></X>``.

    A DtTm keeps the calendar date as the bank wrote it (its own time zone): the bank's
    booking day is what the statement means, converting it would move late bookings.
    """
    raw = _first_text(el, ("Dt",), ("DtTm",))
    if raw is None and el is not None and el.text and el.text.strip():
        raw = el.text.strip()  # some banks put the date directly in the element
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError:
        raise StatementParseError(f"invalid date {raw!r}") from None


def _amount(el, where: str) -> tuple[Decimal, str | None]:
    if el is None or el.text is None or not el.text.strip():
        raise StatementParseError(f"{where} has no Amt")
    raw = el.text.strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise StatementParseError(f"{where} has an invalid Amt {raw!r}") from None
    if not value.is_finite():
        raise StatementParseError(f"{where} has an invalid Amt {raw!r}")
    ccy = el.get("Ccy")
    return value, (ccy.strip().upper() if ccy and ccy.strip() else None)


def _sign(indicator: str | None, where: str) -> int:
    if indicator is None:
        raise StatementParseError(f"{where} has no CdtDbtInd")
    indicator = indicator.strip().upper()
    if indicator in ("CRDT", "CRED", "C"):
        return 1
    if indicator in ("DBIT", "DEBT", "D"):
        return -1
    raise StatementParseError(f"{where} has an unknown CdtDbtInd {indicator!r}")


def _clean_ref(value: str | None) -> str | None:
    if value is None:
        return None
    return None if value.strip().upper() in _NOT_PROVIDED else value.strip()


def _account_id(acct) -> str | None:
    return _first_text(acct, ("Id", "IBAN"), ("Id", "Othr", "Id"), ("Id", "BBAN"), ("Id", "UPIC"))


def _norm_account(value: str | None) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def _party(parties, role: str) -> tuple[str | None, str | None]:
    """Name and account of ``Dbtr``/``Cdtr`` in RltdPties (v02 ``Cdtr/Nm``, v08 ``Cdtr/Pty/Nm``)."""
    if parties is None:
        return None, None
    party = _kid(parties, role)
    name = _first_text(party, ("Nm",), ("Pty", "Nm"), ("Agt", "FinInstnId", "Nm"))
    iban = _account_id(_kid(parties, role + "Acct"))
    return name, iban


def _counterparty(parties, direction: int, own_account: str) -> tuple[str | None, str | None]:
    """The party that is not us: the creditor of a debit, the debtor of a credit.

    Banks sometimes echo our own side in both places (returns especially), so a candidate
    whose account is our statement account is skipped in favour of the other side.
    """
    order = ("Cdtr", "Dbtr") if direction < 0 else ("Dbtr", "Cdtr")
    own = _norm_account(own_account)
    fallback: tuple[str | None, str | None] = (None, None)
    for role in order:
        name, iban = _party(parties, role)
        if name is None and iban is None:
            continue
        if own and iban and _norm_account(iban) == own:
            fallback = fallback if fallback != (None, None) else (name, iban)
            continue
        return name, iban
    return fallback


def _remittance(tx) -> str | None:
    rmt = _kid(tx, "RmtInf")
    parts: list[str] = []
    if rmt is not None:
        parts = [t for t in (_text(u) for u in _kids(rmt, "Ustrd")) if t]
        if not parts:
            for strd in _kids(rmt, "Strd"):
                ref = _first_text(strd, ("CdtrRefInf", "Ref"), ("RfrdDocInf", "Nb"), ("AddtlRmtInf",))
                if ref:
                    parts.append(ref)
    text = " ".join(parts)
    return text or None


def _return_reason(tx) -> str | None:
    return _first_text(tx, ("RtrInf", "Rsn", "Cd"), ("RtrInf", "Rsn", "Prtry"))


def _bank_tx_code(ntry) -> str | None:
    code = _kid(ntry, "BkTxCd")
    if code is None:
        return None
    domain = _text(code, "Domn", "Cd")
    family = _text(code, "Domn", "Fmly", "Cd")
    sub = _text(code, "Domn", "Fmly", "SubFmlyCd")
    if domain:
        return "-".join(p for p in (domain, family, sub) if p)
    return _text(code, "Prtry", "Cd")


def _tx_detail(tx, entry_sign: int, entry_ccy: str, reversal: bool, own_account: str, where: str):
    """One ``TxDtls`` -> ``LineDetail``.

    The detail carries its own CdtDbtInd from v04 on; a notification batch can mix
    directions (camt.054 instant-payment batches do), so it wins over the entry's sign.
    """
    sign = entry_sign
    ind = _text(tx, "CdtDbtInd")
    if ind:
        sign = _sign(ind, where)
    amount_el = _kid(tx, "AmtDtls", "TxAmt", "Amt")
    if amount_el is None:
        amount_el = _kid(tx, "Amt")
    if amount_el is None:
        amount_el = _kid(tx, "AmtDtls", "InstdAmt", "Amt")
    amount = currency = None
    if amount_el is not None:
        value, ccy = _amount(amount_el, where)
        amount, currency = sign * value, ccy or entry_ccy
    # The original direction decides which party is the other side: a reversed debit
    # (booked as credit) still names its original creditor.
    direction = -sign if reversal else sign
    name, iban = _counterparty(_kid(tx, "RltdPties"), direction, own_account)
    refs = _kid(tx, "Refs")
    return LineDetail(
        end_to_end_id=_clean_ref(_text(refs, "EndToEndId")),
        amount=amount,
        currency=currency,
        instruction_id=_clean_ref(_text(refs, "InstrId")),
        payment_info_id=_clean_ref(_text(refs, "PmtInfId")),
        uetr=_text(refs, "UETR"),
        counterparty_name=name,
        counterparty_iban=iban,
        remittance_info=_remittance(tx) or _text(tx, "AddtlTxInf"),
        return_reason=_return_reason(tx),
    )


def _status(ntry) -> str | None:
    sts = _kid(ntry, "Sts")
    if sts is None:
        return None
    code = _first_text(sts, ("Cd",), ("Prtry",))
    if code is None and sts.text and sts.text.strip():
        code = sts.text.strip()
    return code.upper() if code else None


def _entry(ntry, stmt_ccy: str | None, own_account: str, where: str, warnings: list[str]) -> StatementLine:
    value, ccy = _amount(_kid(ntry, "Amt"), where)
    sign = _sign(_text(ntry, "CdtDbtInd"), where)
    currency = ccy or stmt_ccy
    if not currency:
        raise StatementParseError(f"{where} has no currency (Amt without Ccy and no account currency)")
    reversal = (_text(ntry, "RvslInd") or "").lower() in ("true", "1")
    status = _status(ntry)
    if status is None:
        warnings.append(f"{where} has no Sts; treated as BOOK")
        status = "BOOK"
    try:
        booking_date = _date(_kid(ntry, "BookgDt"))
        value_date = _date(_kid(ntry, "ValDt"))
    except StatementParseError as exc:
        raise StatementParseError(f"{where}: {exc}") from None

    batch_id = batch_count = None
    details: list[LineDetail] = []
    detail_refs: list = []
    for dtls in _kids(ntry, "NtryDtls"):
        for btch in _kids(dtls, "Btch"):
            batch_id = batch_id or _first_text(btch, ("PmtInfId",), ("MsgId",))
            count = _text(btch, "NbOfTxs")
            if count and count.isdigit():
                batch_count = (batch_count or 0) + int(count)
        for i, tx in enumerate(_kids(dtls, "TxDtls"), start=1):
            details.append(_tx_detail(tx, sign, currency, reversal, own_account, f"{where} TxDtls {i}"))
            detail_refs.append(_kid(tx, "Refs"))
    if batch_id is None and len(details) > 1:
        shared = {d.payment_info_id for d in details}
        if len(shared) == 1 and None not in shared:
            batch_id = shared.pop()

    single = details[0] if len(details) == 1 else None
    bank_ref = _first_text(ntry, ("AcctSvcrRef",))
    if bank_ref is None and len(detail_refs) == 1:
        bank_ref = _text(detail_refs[0], "AcctSvcrRef")
    if bank_ref is None:
        bank_ref = _text(ntry, "NtryRef")
    extra = {}
    for key, path in (("entry_ref", ("NtryRef",)), ("additional_info", ("AddtlNtryInf",))):
        v = _text(ntry, *path)
        if v:
            extra[key] = v
    prtry = _text(ntry, "BkTxCd", "Prtry", "Cd")
    if prtry:
        extra["proprietary_code"] = prtry
    remittance = single.remittance_info if single else None
    return StatementLine(
        amount=sign * value,
        currency=currency,
        booking_date=booking_date,
        value_date=value_date,
        bank_reference=bank_ref,
        customer_reference=single.instruction_id if single else None,
        end_to_end_id=single.end_to_end_id if single else None,
        batch_id=batch_id,
        batch_count=batch_count,
        return_reason=single.return_reason if single else None,
        counterparty_name=single.counterparty_name if single else None,
        counterparty_iban=single.counterparty_iban if single else None,
        remittance_info=remittance or _text(ntry, "AddtlNtryInf"),
        transaction_code=_bank_tx_code(ntry),
        is_reversal=reversal,
        status=status,
        details=tuple(details),
        extra=extra,
    )


def _balances(bals: list, where: str, warnings: list[str]) -> list[tuple[str, Decimal, str | None, dt.date | None]]:
    out = []
    for n, bal in enumerate(bals, start=1):
        code = _first_text(bal, ("Tp", "CdOrPrtry", "Cd"), ("Tp", "Cd"))
        if code is None:
            continue  # proprietary balance types (per-counterparty positions etc.)
        value, ccy = _amount(_kid(bal, "Amt"), f"{where} Bal {n} ({code})")
        indicator = _text(bal, "CdtDbtInd")
        if indicator is None:
            warnings.append(f"{where} Bal {n} ({code}) has no CdtDbtInd; taken as credit")
            sign = 1
        else:
            sign = _sign(indicator, f"{where} Bal {n} ({code})")
        try:
            date = _date(_kid(bal, "Dt"))
        except StatementParseError as exc:
            raise StatementParseError(f"{where} Bal {n}: {exc}") from None
        out.append((code.upper(), sign * value, ccy, date))
    return out


def _pick_balances(balances):
    by_code: dict[str, list] = {}
    for bal in balances:
        by_code.setdefault(bal[0], []).append(bal)
    opening = next((by_code[c][0] for c in _OPENING_CODES if c in by_code), None)
    if opening is None and "ITBD" in by_code:
        opening = by_code["ITBD"][0]
    closing = by_code["CLBD"][0] if "CLBD" in by_code else None
    if closing is None and "ITBD" in by_code:
        closing = by_code["ITBD"][-1]
    if closing is None and "CLAV" in by_code:
        closing = by_code["CLAV"][0]
    return opening, closing


def _control_totals(record, where: str) -> tuple[int | None, Decimal | None]:
    totals = _kid(record, "TxsSummry", "TtlNtries")
    if totals is None:
        return None, None
    count_text = _text(totals, "NbOfNtries")
    count = int(count_text) if count_text and count_text.isdigit() else None
    net = None
    net_el = _kid(totals, "TtlNetNtry")
    if net_el is not None:  # v03+: <TtlNetNtry><Amt/><CdtDbtInd/></TtlNetNtry>
        raw, indicator = _text(net_el, "Amt"), _text(net_el, "CdtDbtInd")
    else:  # v02: <TtlNetNtryAmt/> + <CdtDbtInd/> beside it
        raw, indicator = _text(totals, "TtlNetNtryAmt"), _text(totals, "CdtDbtInd")
    if raw is not None:
        try:
            net = Decimal(raw) * (_sign(indicator, f"{where} TxsSummry") if indicator else 1)
        except InvalidOperation:
            raise StatementParseError(f"{where} TxsSummry has an invalid net amount {raw!r}") from None
    return count, net


def _record_header(children: list, where: str, warnings: list[str], first_entry=None):
    """The record's account, its currency and its balances, read from ``children``: the record's
    elements before its first entry (all of them when it has none).

    ISO 20022 puts ``Acct``, ``Bal`` and ``TxsSummry`` before the first ``Ntry``, so when the
    first entry has been read these are complete."""
    acct = next((c for c in children if _local(c.tag) == "Acct"), None)
    account = _account_id(acct)
    if account is None:
        raise StatementParseError(f"{where} has no account (Acct/Id/IBAN or Acct/Id/Othr/Id)")
    balances = _balances([c for c in children if _local(c.tag) == "Bal"], where, warnings)
    first_entry_ccy = None
    if first_entry is not None:
        amt = _kid(first_entry, "Amt")
        first_entry_ccy = (amt.get("Ccy") or "").upper() or None if amt is not None else None
    # Balances are in the account's currency by definition; an entry may not be (test files
    # and some banks report the instructed currency there), so balances win over entries.
    currency = _text(acct, "Ccy") or next((b[2] for b in balances if b[2]), None) or first_entry_ccy
    if not currency:
        raise StatementParseError(f"{where} has no currency (no Acct/Ccy, entry or balance Ccy)")
    return account, currency, balances


class _RecordReader:
    """One Stmt/Rpt/Ntfctn read as the parser reaches it: each entry becomes a line as soon as
    its element is complete, and the element is then dropped from the tree."""

    def __init__(self, family: str, record_name: str, index: int, warnings: list[str]):
        self.where = f"{family}: {record_name} {index}"
        self.warnings = warnings
        self.header = None
        self.lines: list[StatementLine] = []

    def entry(self, record, ntry) -> None:
        if self.header is None:
            # Only what precedes the entry: the parser may already have begun the elements after it.
            before = list(itertools.takewhile(lambda child: child is not ntry, record))
            self.header = _record_header(before, self.where, self.warnings, first_entry=ntry)
        account, currency, _ = self.header
        self.lines.append(_entry(ntry, currency, account, f"{self.where} Ntry {len(self.lines) + 1}",
                                 self.warnings))

    def finish(self, record) -> Statement:
        where = self.where
        if self.header is None:  # a record without entries
            self.header = _record_header(list(record), where, self.warnings)
        account, currency, _ = self.header
        balance_warnings: list[str] = []
        balances = _balances(_kids(record, "Bal"), where, balance_warnings)  # late ones included
        said = set(self.warnings)
        self.warnings.extend(w for w in balance_warnings if w not in said)
        late_ccy = next((b[2] for b in balances if b[2]), currency)
        if late_ccy.upper() != currency.upper() and _text(_kid(record, "Acct"), "Ccy") is None:
            raise StatementParseError(f"{where} has a balance after its entries in another currency than "
                                      f"the entries were read in ({currency}); it cannot be read unambiguously")
        opening, closing = _pick_balances(balances)
        count, net = _control_totals(record, where)
        extra = {"balance_codes": [b[0] for b in balances]}
        if opening:
            extra["opening_code"] = opening[0]
        if closing:
            extra["closing_code"] = closing[0]
        period = _kid(record, "FrToDt")
        if period is not None:
            extra["period"] = (
                _first_text(period, ("FrDtTm",), ("FrDt",)),
                _first_text(period, ("ToDtTm",), ("ToDt",)),
            )
        copy = _text(record, "CpyDplctInd")
        if copy:
            extra["copy_duplicate"] = copy
        return Statement(
            account=account,
            currency=currency.upper(),
            opening_balance=opening[1] if opening else None,
            closing_balance=closing[1] if closing else None,
            opening_date=opening[3] if opening else None,
            closing_date=closing[3] if closing else None,
            statement_id=_text(record, "Id"),
            sequence=_first_text(record, ("ElctrncSeqNb",), ("LglSeqNb",)),
            lines=self.lines,
            control_entry_count=count,
            control_sum=net,
            extra=extra,
        )


_STRAY_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def parse_camt(data: bytes) -> ParsedFile:
    """Read a camt message entry by entry (``iterparse``), never holding the whole tree.

    Why: as a tree, a 64 MiB statement (the size cap) took ~890 MiB of lxml elements before
    its first line was read; read entry by entry, only its lines are held."""
    hint = _VERSION_RE.search(data[:4096].decode("latin-1"))
    # Control characters are not allowed in XML 1.0; a bank's stray one (a bell in a name)
    # would make the whole file unreadable, so it is removed, with a warning on the file.
    stray = len(_STRAY_CONTROL.findall(data))
    if stray:
        data = _STRAY_CONTROL.sub(b"", data)
    _reject_declarations(data)
    warnings: list[str] = [f"removed {stray} stray control character(s)"] if stray else []
    try:
        parsed = _read_messages(data, warnings)
    except StatementParseError as exc:
        reason = str(exc)
        if hint is None or reason.startswith(("XML:", "camt.", "XML is not")):
            raise
        raise StatementParseError(f"{hint.group(0)}: {reason}") from None
    return parsed


def _xml_error(exc: Exception) -> StatementParseError:
    if isinstance(exc, etree.XMLSyntaxError):
        message = str(exc).splitlines()[0] if str(exc) else "syntax error"
        message = re.sub(r"\s*\(<string>, line \d+\)$", "", message)
        return StatementParseError(f"XML is malformed or truncated: {message}")
    return StatementParseError(f"XML cannot be read: {exc}")


# The only elements the reader is told about; the rest are built into the tree silently (an
# event per element of a 500,000-entry file tripled the parse time).
_EVENT_TAGS = tuple(f"{{*}}{name}" for name in (*_MESSAGES, "Stmt", "Rpt", "Ntfctn", "Ntry"))


def _read_messages(data: bytes, warnings: list[str]) -> ParsedFile:
    events = etree.iterparse(io.BytesIO(data), events=("start", "end"), tag=_EVENT_TAGS, resolve_entities=False,
                             no_network=True, load_dtd=False, huge_tree=False, remove_comments=True,
                             remove_pis=True)
    message = family = record_name = version = None
    record = reader = None  # the Stmt/Rpt/Ntfctn being read (held, so lxml keeps its proxy)
    page: int | None = None
    statements: list[Statement] = []
    try:
        for event, el in events:
            name = _local(el.tag)
            if event == "start":
                if message is None and name in _MESSAGES:
                    message = el
                    family, record_name = _MESSAGES[name]
                    version = message_version(message.getroottree().getroot(), message)
                elif message is not None and record is None and name == record_name and el.getparent() == message:
                    record, reader = el, _RecordReader(family, record_name, len(statements) + 1, warnings)
                    page = _page_number(message)  # GrpHdr precedes the records: complete by now
                continue
            if record is None:
                continue
            if el == record:
                statements.append(_in_family(family, reader.finish, record))
                statements[-1].page = page
                message.remove(record)  # read: its elements are not kept
                record = reader = None
            elif name == "Ntry" and el.getparent() == record:
                _in_family(family, reader.entry, record, el)
                record.remove(el)
    except StatementParseError:
        raise  # a reason of this parser's own (it is a ValueError too): as it is
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise _xml_error(exc) from None
    if message is None:
        root = events.root
        if root is None:
            raise StatementParseError("XML document is empty")
        raise StatementParseError(
            f"XML is not an ISO 20022 camt.052/053/054 message (root element <{_local(root.tag)}>)"
        )
    if not statements:
        raise StatementParseError(f"{family}: message has no {record_name} element")
    return ParsedFile(format=version, statements=statements, warnings=_summarise(warnings))


def _page_number(message) -> int | None:
    """The message's page (GrpHdr/MsgPgntn/PgNb) when a bank split a statement over several."""
    text = _text(message, "GrpHdr", "MsgPgntn", "PgNb")
    return int(text) if text and text.strip().isdigit() and 0 < int(text) < 100000 else None


def _in_family(family: str, read, *args):
    """A record's error names the message family first, as every reason from this parser does."""
    try:
        return read(*args)
    except StatementParseError as exc:
        reason = str(exc)
        raise StatementParseError(reason if reason.startswith(family) else f"{family}: {reason}") from None


def _summarise(warnings: Iterable[str]) -> list[str]:
    """Collapse repeated warnings (e.g. one per entry without Sts) to one line with a count."""
    first: dict[str, str] = {}
    counts: dict[str, int] = {}
    for w in warnings:
        key = re.sub(r"Ntry \d+", "Ntry *", w)
        first.setdefault(key, w)
        counts[key] = counts.get(key, 0) + 1
    return [f"{key} ({counts[key]} times)" if counts[key] > 1 else first[key] for key in first]
