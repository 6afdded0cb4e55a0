"""Landed statement files → ``raw.statement_*`` tables (or ``raw.quarantine_statement_files``).

Each landed file is loaded once (keyed by its sha256) in one transaction, so a run killed
half-way leaves either the whole file or nothing, and the next run picks up where it was.
A file that cannot be parsed is quarantined with its raw bytes and a one-line reason and
never stops the other files.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from recon_pipeline.audit.pipeline_actions import audit_file_loaded, audit_quarantine
from recon_pipeline.ids import content_id
from recon_pipeline.landing.zone import LandedFile, LandingZone
from recon_pipeline.statements import ParsedFile, StatementLine, StatementParseError, parse_statement
from recon_pipeline.warehouse.connection import Warehouse
from recon_pipeline.warehouse.raw_schema import ensure_raw_schema

_MAX_REASON = 300


@dataclass
class StatementLoadResult:
    files_seen: int = 0
    files_loaded: int = 0
    files_quarantined: int = 0
    files_already_loaded: int = 0
    lines_loaded: int = 0
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (original name, reason)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "files_seen": self.files_seen,
            "files_loaded": self.files_loaded,
            "files_quarantined": self.files_quarantined,
            "files_already_loaded": self.files_already_loaded,
            "lines_loaded": self.lines_loaded,
        }


def money_text(amount: Decimal) -> str:
    """Canonical text of an amount for hashing: '10.5' and '10.50' are the same money."""
    return format(amount.quantize(Decimal("0.00001")), "f")


def bank_line_id(account: str, line: StatementLine, occurrence: int) -> str:
    """Content-derived id: the same booking in a re-sent or intraday+end-of-day file keeps its id.

    ``occurrence`` separates genuinely identical bookings within one file (the n-th copy).
    """
    return content_id(
        "bl", account, line.currency, line.booking_date, line.value_date, money_text(line.amount),
        line.bank_reference, line.end_to_end_id, line.customer_reference, occurrence,
    )


def load_statement_files(wh: Warehouse, landing: LandingZone,
                         csv_profiles: Mapping[str, Mapping[str, Any]] | None = None) -> StatementLoadResult:
    ensure_raw_schema(wh)
    known = {r[0] for r in wh.fetchall("select source_sha256 from raw.statement_files")}
    known |= {r[0] for r in wh.fetchall("select source_sha256 from raw.quarantine_statement_files")}
    result = StatementLoadResult()
    for landed in landing.files("statements"):
        result.files_seen += 1
        if landed.sha256 in known:
            result.files_already_loaded += 1
            continue
        data = landed.path.read_bytes()
        try:
            parsed = parse_statement(data, landed.original_name, csv_profiles=csv_profiles)
        except StatementParseError as exc:
            _quarantine(wh, landed, data, str(exc))
            result.files_quarantined += 1
            result.quarantined.append((landed.original_name, str(exc)))
            continue
        except Exception as exc:  # a parser bug must not stop the other files either
            reason = f"parser error {type(exc).__name__}: {exc}"
            _quarantine(wh, landed, data, reason)
            result.files_quarantined += 1
            result.quarantined.append((landed.original_name, reason))
            continue
        result.lines_loaded += _insert_parsed(wh, landed, parsed)
        result.files_loaded += 1
    return result


def _quarantine(wh: Warehouse, landed: LandedFile, data: bytes, reason: str) -> None:
    one_line = " ".join(reason.split())[:_MAX_REASON] or "unparseable file"
    wh.execute(
        "insert into raw.quarantine_statement_files "
        "(source_sha256, original_name, source, landed_at, reason, size_bytes, raw_bytes) "
        "values (?, ?, ?, ?, ?, ?, ?)",
        (landed.sha256, landed.original_name, landed.source, landed.landed_at, one_line, len(data), data),
    )
    audit_quarantine(wh, "statements", landed.sha256, one_line, original_name=landed.original_name)


def _insert_parsed(wh: Warehouse, landed: LandedFile, parsed: ParsedFile) -> int:
    from recon_pipeline.statements.integrity import statement_findings

    statements, findings, lines, details = [], [], [], []
    position = 0
    for s_index, stmt in enumerate(parsed.statements):
        account = (stmt.account or "").replace(" ", "")
        statement_key = content_id("st", landed.sha256, s_index)
        statements.append((
            statement_key, landed.sha256, s_index, parsed.format, account, stmt.currency,
            stmt.statement_id, stmt.opening_balance, stmt.closing_balance, stmt.opening_date,
            stmt.closing_date, len(stmt.lines), stmt.movements, stmt.balanced,
            stmt.control_entry_count, stmt.control_sum,
        ))
        for f in statement_findings(stmt):
            findings.append((landed.sha256, s_index, account, f.code, f.severity, f.message))
        seen: Counter = Counter()
        for line in stmt.lines:
            signature = (line.currency, line.booking_date, line.value_date, money_text(line.amount),
                         line.bank_reference, line.end_to_end_id, line.customer_reference)
            occurrence = seen[signature]
            seen[signature] += 1
            line_id = bank_line_id(account, line, occurrence)
            lines.append((
                line_id, landed.sha256, landed.original_name, position, s_index, statement_key, account,
                line.currency or stmt.currency, line.booking_date, line.value_date, line.amount,
                line.bank_reference, line.customer_reference, line.end_to_end_id, line.batch_id,
                line.batch_count, line.return_reason, line.counterparty_name, line.counterparty_iban,
                line.remittance_info, line.transaction_code, bool(line.is_reversal), line.status,
                len(line.details),
            ))
            for d_index, d in enumerate(line.details):
                details.append((
                    line_id, landed.sha256, position, d_index, d.end_to_end_id, d.amount, d.currency,
                    d.instruction_id, d.payment_info_id, d.counterparty_name, d.counterparty_iban,
                    d.remittance_info, d.return_reason,
                ))
            position += 1
    with wh.transaction():
        wh.bulk_insert("raw.statements", [
            "statement_key", "source_sha256", "statement_index", "format", "account_iban", "currency",
            "statement_id", "opening_balance", "closing_balance", "opening_date", "closing_date",
            "entry_count", "movements", "balanced", "control_entry_count", "control_sum"], statements)
        wh.bulk_insert("raw.statement_findings", [
            "source_sha256", "statement_index", "account_iban", "code", "severity", "message"], findings)
        wh.bulk_insert("raw.statement_lines", [
            "bank_line_id", "source_sha256", "source_file", "position", "statement_index", "statement_key",
            "account_iban", "currency", "booking_date", "value_date", "amount", "bank_reference",
            "customer_reference", "end_to_end_id", "batch_id", "batch_count", "return_reason",
            "counterparty_name", "counterparty_iban", "remittance_info", "transaction_code", "is_reversal",
            "entry_status", "detail_count"], lines)
        wh.bulk_insert("raw.statement_line_details", [
            "bank_line_id", "source_sha256", "position", "detail_index", "end_to_end_id", "amount",
            "currency", "instruction_id", "payment_info_id", "counterparty_name", "counterparty_iban",
            "remittance_info", "return_reason"], details)
        # The file row goes last: its presence is what marks the file as loaded.
        wh.execute(
            "insert into raw.statement_files (source_sha256, original_name, source, landed_at, format, "
            "statement_count, line_count, warnings) values (?, ?, ?, ?, ?, ?, ?, ?)",
            (landed.sha256, landed.original_name, landed.source, landed.landed_at, parsed.format,
             len(parsed.statements), len(lines), json.dumps(parsed.warnings) if parsed.warnings else None),
        )
        audit_file_loaded(wh, "statements", landed, format=parsed.format, lines=len(lines))
    return len(lines)
