"""Landed statement files → ``raw.statement_*`` tables (or the ``raw.quarantine_*`` tables).

Each landed file is loaded once (keyed by its sha256) in one transaction, so a run killed
half-way leaves either the whole file or nothing, and the next run picks up where it was.

What a failure costs (the rule, also in the README):
- a *line* with a value the warehouse cannot hold (more than 5 decimals, beyond
  DECIMAL(20,5), a date before 1900, a count past 32 bits) is quarantined alone in
  ``raw.quarantine_statement_lines`` (its parsed fields as bytes, its position, a one-line
  reason); the rest of its statement loads, the statement gets a ``line_quarantined`` finding
  and its movements are those of the loaded lines (so the balance proof shows the gap);
- a *balance or control total* that does not fit is dropped with a ``value_out_of_range``
  finding on its statement (the proof is then "not possible", never silently OK);
- a *file* that cannot be parsed, is over the size cap, or whose rows the warehouse still
  refuses is quarantined as a file in ``raw.quarantine_statement_files`` (named, with a
  reason) and is never retried: its sha256 is known from then on;
- nothing here blocks a cycle; cycles are blocked only by the data-quality gate.
"""
from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from recon_pipeline.audit.pipeline_actions import audit_file_loaded, audit_quarantine
from recon_pipeline.ids import content_id
from recon_pipeline.landing.zone import LandedFile, LandingZone
from recon_pipeline.one_line import one_line
from recon_pipeline.statements import ParsedFile, Statement, StatementLine, StatementParseError, parse_statement
from recon_pipeline.statements.integrity import ERROR, WARNING, Finding, statement_findings
from recon_pipeline.statements.model import MAX_STATEMENT_BYTES, UNREADABLE
from recon_pipeline.warehouse.connection import LOAD_MEMORY_LIMIT, Warehouse
from recon_pipeline.warehouse.raw_schema import ensure_raw_schema
from recon_pipeline.warehouse.value_checks import date_problem, first_problem, int32_problem, money_problem

_MAX_REASON = 300
_QUARANTINE_HEAD_BYTES = 64 * 1024        # what an over-size file keeps in quarantine (all of it is landed)


@dataclass
class StatementLoadResult:
    files_seen: int = 0
    files_loaded: int = 0
    files_quarantined: int = 0
    files_already_loaded: int = 0
    lines_loaded: int = 0
    lines_quarantined: int = 0
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (original name, reason)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "files_seen": self.files_seen,
            "files_loaded": self.files_loaded,
            "files_quarantined": self.files_quarantined,
            "files_already_loaded": self.files_already_loaded,
            "lines_loaded": self.lines_loaded,
            "lines_quarantined": self.lines_quarantined,
        }


def money_text(amount: Decimal) -> str:
    """Canonical text of an amount for hashing: '10.5' and '10.50' are the same money."""
    return format(amount.quantize(Decimal("0.00001")), "f")


def line_identity(account: str, line: StatementLine) -> tuple:
    """What makes a booking the same booking when a bank reports it again (CONTRACT §1.2).

    With the bank's own reference: account, reference, booking date and signed amount (the
    sign is the direction) — nothing else, because an intraday camt.052 and the day's camt.053
    report one booking with different details (value date, end-to-end id, remittance text
    filled in later). Without a reference: the line's content, as before.
    """
    if line.bank_reference:
        return ("ref", line.bank_reference, line.booking_date, money_text(line.amount))
    return (line.currency, line.booking_date, line.value_date, money_text(line.amount),
            line.bank_reference, line.end_to_end_id, line.customer_reference)


def bank_line_id(account: str, line: StatementLine, occurrence: int) -> str:
    """Content-derived id: the same booking in a re-sent or intraday+end-of-day file keeps its id.

    ``occurrence`` separates genuinely identical bookings within one statement (the n-th copy,
    in file order: the "position" the contract names for lines without a reference). Lines
    without a bank reference keep the id they always had.
    """
    return content_id("bl", account, *line_identity(account, line), occurrence)


def load_statement_files(wh: Warehouse, landing: LandingZone,
                         csv_profiles: Mapping[str, Mapping[str, Any]] | None = None,
                         max_bytes: int = MAX_STATEMENT_BYTES) -> StatementLoadResult:
    ensure_raw_schema(wh)
    known = {r[0] for r in wh.fetchall("select source_sha256 from raw.statement_files")}
    known |= {r[0] for r in wh.fetchall("select source_sha256 from raw.quarantine_statement_files")}
    result = StatementLoadResult()
    for landed in landing.files("statements"):
        result.files_seen += 1
        if landed.sha256 in known:
            result.files_already_loaded += 1
            continue
        size = landed.path.stat().st_size
        if size > max_bytes:
            with open(landed.path, "rb") as fh:
                head = fh.read(_QUARANTINE_HEAD_BYTES)
            _quarantine_file(wh, landed, head, size, result,
                             f"file is {size} bytes, over the {max_bytes}-byte cap for statement files "
                             f"(not parsed; kept whole in the landing zone as {landed.path.name})")
            continue
        data = landed.path.read_bytes()
        try:
            parsed = parse_statement(data, landed.original_name, csv_profiles=csv_profiles)
        except StatementParseError as exc:
            _quarantine_file(wh, landed, data, size, result, str(exc))
            continue
        except Exception as exc:  # a parser bug must not stop the other files either
            _quarantine_file(wh, landed, data, size, result, f"parser error {type(exc).__name__}: {exc}")
            continue
        del data  # a statement at the cap is 64 MiB: re-read in the rare case it is needed below
        try:
            loaded, bad = _insert_parsed(wh, landed, parsed)
        except Exception as exc:  # noqa: BLE001 - the warehouse refused a row we did not foresee
            first = (str(exc).strip().splitlines() or [""])[0]
            _quarantine_file(wh, landed, _raw_bytes(landed), size, result,
                             f"could not be written to the warehouse ({type(exc).__name__}: {first})")
            continue
        result.lines_loaded += loaded
        result.lines_quarantined += bad
        result.files_loaded += 1
    return result


def _raw_bytes(landed: LandedFile) -> bytes:
    """The file's bytes for its quarantine row; the landing zone keeps the file either way."""
    try:
        return landed.path.read_bytes()
    except OSError as exc:
        return f"(could not be re-read from the landing zone: {exc})".encode()


def _quarantine_file(wh: Warehouse, landed: LandedFile, data: bytes, size: int,
                     result: StatementLoadResult, reason: str) -> None:
    reason_line = one_line(reason, _MAX_REASON) or "unparseable file"
    wh.execute(
        "insert into raw.quarantine_statement_files "
        "(source_sha256, original_name, source, landed_at, reason, size_bytes, raw_bytes) "
        "values (?, ?, ?, ?, ?, ?, ?)",
        (landed.sha256, landed.original_name, landed.source, landed.landed_at, reason_line, size, data),
    )
    result.files_quarantined += 1
    result.quarantined.append((landed.original_name, reason_line))
    audit_quarantine(wh, "statements", landed.sha256, one_line, original_name=landed.original_name)


def line_problem(line: StatementLine) -> str | None:
    """Why a parsed line cannot be stored as it is, or None (checked before any insert)."""
    return first_problem(
        line.extra.get(UNREADABLE),
        money_problem(line.amount),
        date_problem(line.booking_date, "booking date"),
        date_problem(line.value_date, "value date"),
        int32_problem(line.batch_count, "batch count"),
        *(money_problem(d.amount, f"detail {i + 1} amount") for i, d in enumerate(line.details)),
    )


def _fitting_statement(stmt: Statement, kept: list[StatementLine]) -> tuple[Statement, list[Finding]]:
    """The statement with only its storable lines, and any balance or total that does not fit
    dropped; a finding for each dropped value."""
    findings = []
    changes: dict[str, Any] = {"lines": kept}
    for name, what in (("opening_balance", "opening balance"), ("closing_balance", "closing balance"),
                       ("control_sum", "control sum")):
        problem = money_problem(getattr(stmt, name), what)
        if problem:
            changes[name] = None
            findings.append(Finding("value_out_of_range", ERROR, f"{problem}; not kept"))
    for name, what in (("opening_date", "opening date"), ("closing_date", "closing date")):
        problem = date_problem(getattr(stmt, name), what)
        if problem:
            changes[name] = None
            findings.append(Finding("value_out_of_range", WARNING, f"{problem}; not kept"))
    problem = int32_problem(stmt.control_entry_count, "control entry count")
    if problem:
        changes["control_entry_count"] = None
        findings.append(Finding("value_out_of_range", WARNING, f"{problem}; not kept"))
    return dataclasses.replace(stmt, **changes), findings


def _line_bytes(line: StatementLine) -> bytes:
    """The parsed fields of a quarantined line, as JSON (exact decimal text, nothing rounded)."""
    return json.dumps(dataclasses.asdict(line), default=str, sort_keys=True).encode("utf-8")


_LINE_COLUMNS = [
    "bank_line_id", "source_sha256", "source_file", "position", "statement_index", "statement_key",
    "account_iban", "currency", "booking_date", "value_date", "amount", "bank_reference",
    "customer_reference", "end_to_end_id", "batch_id", "batch_count", "return_reason",
    "counterparty_name", "counterparty_iban", "remittance_info", "transaction_code", "is_reversal",
    "entry_status", "detail_count"]
_DETAIL_COLUMNS = [
    "bank_line_id", "source_sha256", "position", "detail_index", "end_to_end_id", "amount",
    "currency", "instruction_id", "payment_info_id", "counterparty_name", "counterparty_iban",
    "remittance_info", "return_reason"]
_QUARANTINE_LINE_COLUMNS = [
    "source_sha256", "original_name", "statement_index", "position", "account_iban", "reason", "raw_value"]
# Lines are written in batches of this many inside the file's one transaction, and each
# statement's parsed lines are let go once written: a statement at the size cap (~500,000
# entries) then costs its parse, not its parse plus every row again as tuples and Arrow arrays.
_BATCH_LINES = 50_000


class _Batches:
    """Rows per table, written whenever a table's batch is full and at the end."""

    def __init__(self, wh: Warehouse):
        self.wh = wh
        self.rows: dict[str, tuple[list[str], list[tuple]]] = {
            "raw.statement_lines": (_LINE_COLUMNS, []),
            "raw.statement_line_details": (_DETAIL_COLUMNS, []),
            "raw.quarantine_statement_lines": (_QUARANTINE_LINE_COLUMNS, []),
        }
        self.written: dict[str, int] = dict.fromkeys(self.rows, 0)

    def add(self, table: str, row: tuple) -> None:
        columns, rows = self.rows[table]
        rows.append(row)
        if len(rows) >= _BATCH_LINES:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self.rows):
            columns, rows = self.rows[name]
            self.written[name] += self.wh.bulk_insert(name, columns, rows)
            rows.clear()


def _insert_parsed(wh: Warehouse, landed: LandedFile, parsed: ParsedFile) -> tuple[int, int]:
    """Insert one parsed file in one transaction; returns (lines loaded, lines quarantined)."""
    statements, findings = [], []
    position = 0
    with wh.memory_capped(LOAD_MEMORY_LIMIT), wh.transaction():
        batches = _Batches(wh)
        for s_index, original in enumerate(parsed.statements):
            account = (original.account or "").replace(" ", "")
            statement_key = content_id("st", landed.sha256, s_index)
            kept: list[StatementLine] = []
            kept_positions: list[int] = []
            for line in original.lines:
                problem = line_problem(line)
                if problem:
                    batches.add("raw.quarantine_statement_lines", (
                        landed.sha256, landed.original_name, s_index, position, account,
                        f"line {position + 1}: {problem}"[:_MAX_REASON], _line_bytes(line)))
                else:
                    kept.append(line)
                    kept_positions.append(position)
                position += 1
            stmt, value_findings = _fitting_statement(original, kept)
            if len(kept) < len(original.lines):
                value_findings.append(Finding(
                    "line_quarantined", ERROR,
                    f"{len(original.lines) - len(kept)} line(s) of this statement quarantined "
                    "(see raw.quarantine_statement_lines); movements and balance proof cover the loaded lines only"))
            statements.append((
                statement_key, landed.sha256, s_index, parsed.format, account, stmt.currency,
                stmt.statement_id, stmt.opening_balance, stmt.closing_balance, stmt.opening_date,
                stmt.closing_date, len(stmt.lines), stmt.movements, stmt.balanced,
                stmt.control_entry_count, stmt.control_sum, stmt.page,
            ))
            for f in [*statement_findings(stmt), *value_findings]:
                findings.append((landed.sha256, s_index, account, f.code, f.severity, f.message))
            # Occurrences are counted by the first occurrence's id, not by the identity tuple:
            # the same count, a fraction of the memory for a statement of 500,000 lines.
            seen: Counter = Counter()
            # Each line is let go once its row is batched (``kept`` is ``stmt.lines``, already
            # summed and checked above): the parse and the transaction do not peak together.
            original.lines = []
            for index, line_position in enumerate(kept_positions):
                line, kept[index] = kept[index], None
                first_id = bank_line_id(account, line, 0)
                occurrence = seen[first_id]
                seen[first_id] += 1
                line_id = first_id if occurrence == 0 else bank_line_id(account, line, occurrence)
                batches.add("raw.statement_lines", (
                    line_id, landed.sha256, landed.original_name, line_position, s_index, statement_key, account,
                    line.currency or stmt.currency, line.booking_date, line.value_date, line.amount,
                    line.bank_reference, line.customer_reference, line.end_to_end_id, line.batch_id,
                    line.batch_count, line.return_reason, line.counterparty_name, line.counterparty_iban,
                    line.remittance_info, line.transaction_code, bool(line.is_reversal), line.status,
                    len(line.details),
                ))
                for d_index, d in enumerate(line.details):
                    batches.add("raw.statement_line_details", (
                        line_id, landed.sha256, line_position, d_index, d.end_to_end_id, d.amount, d.currency,
                        d.instruction_id, d.payment_info_id, d.counterparty_name, d.counterparty_iban,
                        d.remittance_info, d.return_reason,
                    ))
        batches.flush()
        wh.bulk_insert("raw.statements", [
            "statement_key", "source_sha256", "statement_index", "format", "account_iban", "currency",
            "statement_id", "opening_balance", "closing_balance", "opening_date", "closing_date",
            "entry_count", "movements", "balanced", "control_entry_count", "control_sum", "page_number"],
            statements)
        wh.bulk_insert("raw.statement_findings", [
            "source_sha256", "statement_index", "account_iban", "code", "severity", "message"], findings)
        loaded = batches.written["raw.statement_lines"]
        # The file row goes last: its presence is what marks the file as loaded.
        wh.execute(
            "insert into raw.statement_files (source_sha256, original_name, source, landed_at, format, "
            "statement_count, line_count, warnings) values (?, ?, ?, ?, ?, ?, ?, ?)",
            (landed.sha256, landed.original_name, landed.source, landed.landed_at, parsed.format,
             len(parsed.statements), loaded, json.dumps(parsed.warnings) if parsed.warnings else None),
        )
        audit_file_loaded(wh, "statements", landed, format=parsed.format, lines=loaded)
    return loaded, batches.written["raw.quarantine_statement_lines"]
