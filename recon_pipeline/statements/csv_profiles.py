"""CSV bank exports read through named column-mapping profiles.

Every bank's CSV is different, so the differences live in data, not in code: a profile is a
plain mapping, the built-in ones in ``csv_bank_profiles.yaml`` beside this module (users add
their own under ``csv_profiles:`` in recon.yaml, same keys), and one reader applies it. Keys, all optional:

``delimiter``            ``";"``, ``","``, ``"\\t"``...; default: sniffed
``encoding``             e.g. ``"iso-8859-1"``; default: UTF-8, else CP1252
``quotechar``            default ``'"'``
``decimal_separator``    ``"."`` or ``","``; default: guessed per column
``thousands_separator``  default: the other one of ``.``/``,`` (plus spaces and ``'``)
``date_format``          strptime format or list of them; default: the first common format
                         that parses every value of the column (day-first wins a tie)
``header_signature``     column names that identify the header row (and the profile, when
                         no profile is named); metadata lines above the header are skipped
``columns``              field -> column name, or list of names (the first non-empty cell
                         wins, per row); ``"Name#2"`` is the 2nd column called Name, an int
                         is a 0-based position. Fields: booking_date, value_date, amount,
                         debit, credit, fee, direction, currency, bank_reference,
                         customer_reference, end_to_end_id, batch_id, counterparty_name,
                         counterparty_iban, remittance_info, transaction_code, status,
                         balance, account
``currency``             currency when there is no currency column or the cell is empty
``account``              fixed account; ``account_metadata``: label of a metadata line
                         (``IBAN;DE12...``) above the header that holds it
``pending_values``       status cells meaning "not booked yet": kept as ``PDNG`` lines, which
                         count as entries but not as movements
``skip_values``          status cells meaning "never happened" (declined, reverted): dropped,
                         and the count is reported as a warning
``debit_values``         cells of the ``direction`` column meaning debit (amount made negative)
``row_order``            ``"oldest_first"`` (default) or ``"newest_first"``
``derive_opening``       default true: opening = oldest running balance − its amount, but only
                         when every booked row's running balance is consistent with the amounts

Matching of column names ignores case, surrounding spaces and ``_``/``-`` differences.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from recon_pipeline.iban import compact_account, iban_shaped
from recon_pipeline.statements.model import (
    ParsedFile,
    Statement,
    StatementLine,
    StatementParseError,
)

FIELDS = (
    "booking_date", "value_date", "amount", "debit", "credit", "fee", "direction", "currency",
    "bank_reference", "customer_reference", "end_to_end_id", "batch_id", "counterparty_name",
    "counterparty_iban", "remittance_info", "transaction_code", "status", "balance", "account",
)
PROFILE_KEYS = {
    "delimiter", "encoding", "quotechar", "decimal_separator", "thousands_separator",
    "date_format", "header_signature", "columns", "currency", "account", "account_metadata",
    "pending_values", "skip_values", "debit_values", "row_order", "derive_opening", "description",
}
_HEADER_SEARCH_ROWS = 60
_MAX_FIRST_LINE = 1 << 20

BUILTIN_PROFILES_FILE = Path(__file__).with_name("csv_bank_profiles.yaml")


def load_builtin_profiles(path: Path = BUILTIN_PROFILES_FILE) -> dict[str, dict[str, Any]]:
    """The built-in bank profiles, in the order they are tried: data in a YAML file beside this
    module, checked with the same rules as a user's profile so a bad edit fails loudly."""
    profiles = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    problems = [p for name, profile in profiles.items() for p in validate_profile(name, profile)]
    if problems:
        raise ValueError(f"{path.name}: " + "; ".join(problems))
    return profiles


_DATE_FORMATS = (
    "%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d-%m-%Y",
    "%Y%m%d", "%d/%m/%y", "%m/%d/%y",
)
_NOT_PROVIDED = {"NOTPROVIDED", "NOT PROVIDED", "NONREF"}


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", str(name).strip().lower())


def validate_profile(name: str, profile: Mapping[str, Any]) -> list[str]:
    """Problems with a profile, one line each (empty when it is usable)."""
    problems = [f"unknown key {key!r}" for key in profile if key not in PROFILE_KEYS]
    for field in (profile.get("columns") or {}):
        if field not in FIELDS:
            problems.append(f"unknown column field {field!r}")
    if profile.get("row_order", "oldest_first") not in ("oldest_first", "newest_first"):
        problems.append("row_order must be oldest_first or newest_first")
    return [f"CSV profile {name!r}: {p}" for p in problems]


BUILTIN_PROFILES: dict[str, dict[str, Any]] = load_builtin_profiles()


# --------------------------------------------------------------------------- reading
def _decode(data: bytes, encoding: str | None) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            pass  # a profile's encoding is a hint; UTF-8 exports of the same layout exist
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _rows(text: str, delimiter: str, quotechar: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar))
    except csv.Error as exc:
        raise StatementParseError(f"CSV cannot be read: {exc}") from None


class _Header:
    """Resolves a profile's column specs against one header row."""

    def __init__(self, cells: list[str]):
        self.cells = cells
        self.normalised = [_norm(c) for c in cells]

    def index(self, spec: Any) -> int | None:
        if isinstance(spec, int):
            return spec if 0 <= spec < len(self.cells) else None
        spec = str(spec)
        occurrence = 1
        match = re.match(r"^(.*)#(\d+)$", spec)
        if match:
            spec, occurrence = match.group(1), int(match.group(2))
        wanted = _norm(spec)
        hits = [i for i, c in enumerate(self.normalised) if c == wanted]
        return hits[occurrence - 1] if len(hits) >= occurrence else None

    def resolve(self, columns: Mapping[str, Any]) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for field, spec in columns.items():
            specs = spec if isinstance(spec, (list, tuple)) else [spec]
            indexes = [i for i in (self.index(s) for s in specs) if i is not None]
            if indexes:
                out[field] = list(dict.fromkeys(indexes))
        return out

    def has_all(self, names: list[str]) -> bool:
        return all(self.index(n) is not None for n in names)


def _find_header(rows: list[list[str]], profile: Mapping[str, Any]) -> int | None:
    signature = profile.get("header_signature")
    columns = profile.get("columns") or {}
    for n, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        if len([c for c in row if c.strip()]) < 2:
            continue
        header = _Header(row)
        if signature:
            if header.has_all(list(signature)):
                return n
            continue
        mapped = header.resolve(columns)
        if "booking_date" in mapped and ("amount" in mapped or "debit" in mapped or "credit" in mapped):
            return n
    return None


def _locate(data: bytes, profile: Mapping[str, Any]) -> tuple[str, list[list[str]], int] | None:
    """(delimiter, rows, header row index) for the first delimiter under which the header is found."""
    text = _decode(data, profile.get("encoding"))
    first_break = text.find("\n", 0, _MAX_FIRST_LINE)
    if first_break < 0 and len(text) > _MAX_FIRST_LINE:
        raise StatementParseError("CSV: no line break in the first MiB (not a CSV statement)")
    quote = profile.get("quotechar") or '"'
    delimiters = [profile["delimiter"]] if profile.get("delimiter") else [";", ",", "\t", "|"]
    best = None
    head = "\n".join(text.split("\n", _HEADER_SEARCH_ROWS + 1)[:_HEADER_SEARCH_ROWS])
    for delimiter in delimiters:
        rows = _rows(head, delimiter, quote)
        n = _find_header(rows, profile)
        if n is not None and (best is None or len(rows[n]) > best[2]):
            best = (delimiter, n, len(rows[n]))
    if best is None:
        return None
    delimiter, n, _ = best
    return delimiter, _rows(text, delimiter, quote), n


def matches(data: bytes, profile: Mapping[str, Any]) -> bool:
    """Whether the profile's header signature is found in the file (used to pick a profile)."""
    if not profile.get("header_signature"):
        return False
    try:
        return _locate(data, profile) is not None
    except StatementParseError:
        return False


# --------------------------------------------------------------------------- values
def _guess_decimal(values: list[str]) -> str:
    for value in values:
        v = value.strip()
        last_comma, last_dot = v.rfind(","), v.rfind(".")
        if last_comma > last_dot and re.search(r",\d{1,2}\s*-?\)?$", v):
            return ","
        if last_comma > last_dot >= 0:
            return ","
    return "."


def _number(raw: str, decimal: str, thousands: str | None) -> Decimal:
    v = raw.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
    negative = False
    if v.startswith("(") and v.endswith(")"):
        negative, v = True, v[1:-1]
    if v.endswith("-"):
        negative, v = True, v[:-1]
    v = re.sub(r"^[^\d+\-.,]+|[^\d.,]+$", "", v)  # currency symbols and codes around the number
    if thousands is None:
        thousands = "." if decimal == "," else ","
    if thousands:
        v = v.replace(thousands, "")
    if decimal != ".":
        v = v.replace(decimal, ".")
    value = Decimal(v)
    if not value.is_finite():
        raise InvalidOperation(raw)
    return -value if negative else value


def _date_part(value: str) -> str:
    value = value.strip()
    match = re.match(r"^(\S+?)(?:[T ]\d{1,2}:\d{2}.*)?$", value)
    return match.group(1) if match else value


def _choose_date_format(values: list[str], configured: Any) -> list[str]:
    if configured:
        return list(configured) if isinstance(configured, (list, tuple)) else [configured]
    samples = [_date_part(v) for v in values if v.strip()]
    for fmt in _DATE_FORMATS:
        try:
            for s in samples:
                dt.datetime.strptime(s, fmt)
        except ValueError:
            continue
        return [fmt]
    return list(_DATE_FORMATS)


def _date(value: str, formats: list[str]) -> dt.date:
    part = _date_part(value)
    for fmt in formats:
        try:
            return dt.datetime.strptime(part, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def _account(value: str | None) -> str:
    value = (value or "").strip()
    compact = compact_account(value)
    return compact if iban_shaped(compact) else value


# --------------------------------------------------------------------------- parsing
def parse_csv(data: bytes, profile_name: str, profile: Mapping[str, Any]) -> ParsedFile:
    problems = validate_profile(profile_name, profile)
    if problems:
        raise StatementParseError(problems[0])
    label = f"CSV (profile {profile_name})"
    located = _locate(data, profile)
    if located is None:
        if profile.get("header_signature"):
            wanted = ", ".join(profile["header_signature"])
            raise StatementParseError(f"{label}: no header row with columns {wanted}")
        raise StatementParseError(f"{label}: no header row with a date and an amount column")
    _, rows, header_at = located
    header = _Header(rows[header_at])
    cols = header.resolve(profile.get("columns") or {})
    if "booking_date" not in cols or not ({"amount", "debit", "credit"} & set(cols)):
        raise StatementParseError(f"{label}: header has no booking date or amount column")

    def cell(row: list[str], field: str) -> str:
        for i in cols.get(field, ()):
            if i < len(row) and row[i].strip():
                return row[i].strip()
        return ""

    body = [(header_at + 1 + k, r) for k, r in enumerate(rows[header_at + 1:])]
    body = [(n, r) for n, r in body if any(c.strip() for c in r)]
    amount_fields = [f for f in ("amount", "debit", "credit", "fee", "balance") if f in cols]
    decimal = profile.get("decimal_separator") or _guess_decimal(
        [cell(r, f) for _, r in body for f in amount_fields]
    )
    thousands = profile.get("thousands_separator")
    date_formats = _choose_date_format([cell(r, "booking_date") for _, r in body], profile.get("date_format"))
    value_formats = _choose_date_format([cell(r, "value_date") for _, r in body], profile.get("date_format"))
    pending = {_norm(v) for v in profile.get("pending_values") or ()}
    skip = {_norm(v) for v in profile.get("skip_values") or ()}
    debit_marks = {_norm(v) for v in profile.get("debit_values") or ("D", "DBIT", "DEBIT", "S", "SOLL")}
    metadata_account = _metadata(rows[:header_at], profile.get("account_metadata"))

    warnings: list[str] = []
    skipped = empty = 0
    parsed: list[tuple[StatementLine, str, Decimal | None]] = []
    for n, row in body:
        where = f"{label}: row {n + 1}"
        status_cell = _norm(cell(row, "status"))
        if status_cell and status_cell in skip:
            skipped += 1
            continue
        raw_date = cell(row, "booking_date")
        amounts = {f: cell(row, f) for f in ("amount", "debit", "credit")}
        if not raw_date and not any(amounts.values()):
            empty += 1
            continue

        def number(field: str) -> Decimal | None:  # called at once, for this row only
            raw = cell(row, field)  # noqa: B023
            if not raw:
                return None
            try:
                return _number(raw, decimal, thousands)
            except (InvalidOperation, ValueError):
                raise StatementParseError(f"{where}: invalid {field} {raw!r}") from None  # noqa: B023

        amount = number("amount")
        if amount is None:
            debit, credit = number("debit"), number("credit")
            if debit is None and credit is None:
                raise StatementParseError(f"{where}: no amount")
            amount = (credit or Decimal(0)).copy_abs() - (debit or Decimal(0)).copy_abs()
        fee = number("fee")
        if fee:
            amount -= fee.copy_abs()
        if _norm(cell(row, "direction")) in debit_marks:
            amount = -amount.copy_abs()
        status = "PDNG" if status_cell and status_cell in pending else "BOOK"
        booking_date = value_date = None
        if raw_date:
            try:
                booking_date = _date(raw_date, date_formats)
            except ValueError:
                raise StatementParseError(f"{where}: invalid booking date {raw_date!r}") from None
        elif status == "BOOK":
            raise StatementParseError(f"{where}: no booking date")
        raw_value = cell(row, "value_date")
        if raw_value:
            try:
                value_date = _date(raw_value, value_formats)
            except ValueError:
                raise StatementParseError(f"{where}: invalid value date {raw_value!r}") from None
        currency = (cell(row, "currency") or profile.get("currency") or "").upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise StatementParseError(
                f"{where}: no currency (no currency column value and the profile sets none)"
                if not currency else f"{where}: invalid currency {currency!r}"
            )
        e2e = cell(row, "end_to_end_id")
        line = StatementLine(
            amount=amount,
            currency=currency,
            booking_date=booking_date,
            value_date=value_date,
            bank_reference=cell(row, "bank_reference") or None,
            customer_reference=cell(row, "customer_reference") or None,
            end_to_end_id=None if e2e.upper() in _NOT_PROVIDED else (e2e or None),
            batch_id=cell(row, "batch_id") or None,
            counterparty_name=cell(row, "counterparty_name") or None,
            counterparty_iban=cell(row, "counterparty_iban") or None,
            remittance_info=cell(row, "remittance_info") or None,
            transaction_code=cell(row, "transaction_code") or None,
            status=status,
            extra={"row": n + 1},
        )
        account = _account(cell(row, "account") or metadata_account or profile.get("account"))
        parsed.append((line, account, number("balance")))
    if skipped:
        warnings.append(f"{skipped} row(s) skipped by the profile's status filter")
    if empty:
        warnings.append(f"{empty} row(s) without date and amount ignored")
    if not parsed and not metadata_account and not profile.get("account"):
        raise StatementParseError(f"{label}: no transactions and no account")

    accounts = list(dict.fromkeys(a for _, a, _ in parsed)) or [
        _account(metadata_account or profile.get("account"))
    ]
    statements = []
    for account in accounts:
        group = [(line, balance) for line, a, balance in parsed if a == account]
        statements.append(_statement(account, group, profile, warnings))
    return ParsedFile(format=f"CSV:{profile_name}", statements=statements, warnings=warnings)


def _metadata(rows: list[list[str]], label: str | None) -> str | None:
    if not label:
        return None
    wanted = _norm(label).rstrip(":")
    for row in rows:
        cells = [c.strip() for c in row]
        if cells and _norm(cells[0]).rstrip(":") == wanted:
            return next((c for c in cells[1:] if c), None)
    return None


def _statement(account: str, group, profile: Mapping[str, Any], warnings: list[str]) -> Statement:
    lines = [line for line, _ in group]
    currencies = list(dict.fromkeys(line.currency for line in lines))
    currency = currencies[0] if currencies else (profile.get("currency") or "XXX").upper()
    opening = closing = None
    if len(currencies) > 1:
        warnings.append(
            f"account {account or '(none)'}: rows in several currencies ({', '.join(currencies)}); "
            "balances not derived"
        )
    else:
        booked = [(line, bal) for line, bal in group if line.status == "BOOK"]
        if profile.get("row_order") == "newest_first":
            booked.reverse()
        with_balance = [(line, bal) for line, bal in booked if bal is not None]
        if with_balance:
            closing = with_balance[-1][1]
            consistent = len(with_balance) == len(booked) and all(
                prev_bal + line.amount == bal
                for (_, prev_bal), (line, bal) in zip(with_balance, with_balance[1:])
            )
            if profile.get("derive_opening", True) and consistent:
                first_line, first_balance = with_balance[0]
                opening = first_balance - first_line.amount
            elif profile.get("derive_opening", True):
                warnings.append(
                    f"account {account or '(none)'}: running balance does not follow the rows; "
                    "opening balance not derived"
                )
    dates = [line.booking_date for line in lines if line.booking_date]
    return Statement(
        account=account,
        currency=currency,
        opening_balance=opening,
        closing_balance=closing,
        opening_date=min(dates) if dates else None,
        closing_date=max(dates) if dates else None,
        lines=lines,
        extra={"currencies": currencies} if len(currencies) > 1 else {},
    )


def all_profiles(user_profiles: Mapping[str, Mapping] | None = None) -> dict[str, Mapping[str, Any]]:
    """User profiles first (they may override a built-in name), then the built-ins."""
    merged: dict[str, Mapping[str, Any]] = {}
    for name, profile in (user_profiles or {}).items():
        merged[name] = profile
    for name, profile in BUILTIN_PROFILES.items():
        merged.setdefault(name, profile)
    return merged


def choose_profile(data: bytes, user_profiles: Mapping[str, Mapping] | None = None) -> str:
    """The first profile (user, then built-in) whose header signature is in the file, else generic."""
    for name, profile in all_profiles(user_profiles).items():
        if name != "generic" and matches(data, profile):
            return name
    return "generic"
