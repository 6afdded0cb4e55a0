"""Operator decisions: ``recon resolve`` (one exception, or a close pack's sheet) and ``recon match``.

Nothing is edited in place. A decision is checked against the exception's current state,
appended to ``ops.*`` with who, when and why (and to the audit trail), takes effect from the
latest built pay cycle the item appears in. Each function returns a ``Recorded``: the line for
the operator and the rebuild the decision asks for, which the orchestration runs
(orchestration/apply.py) so the marts and close packs show it. Re-running a rebuild gives the
same result because the log is an input like any other.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path

from recon_pipeline.audit import append_audit
from recon_pipeline.ids import content_id
from recon_pipeline.operators.decisions import (
    ACTIONS,
    Decision,
    DecisionsRefused,
    check_decisions,
    clean_text,
    record_decisions,
)
from recon_pipeline.operators.mirror import mirror_decision
from recon_pipeline.operators.rebuilds import RebuildRequest, Recorded
from recon_pipeline.operators.sheet import read_exceptions_sheet
from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.connection import open_warehouse
from recon_pipeline.warehouse.source_tables import ensure_source_tables

__all__ = ["ACTIONS", "Decision", "DecisionsRefused", "RebuildRequest", "Recorded", "resolve_exception",
           "resolve_from_xlsx", "manual_match", "undo_manual_match"]


def _require_text(value: str, what: str) -> str:
    text = clean_text(value)
    if not text:
        raise ValueError(f"{what} must not be empty")
    return text


def parse_amount(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"--amount must be a decimal number like -15.00, got {text!r}") from None
    if not amount.is_finite():
        raise ValueError(f"--amount must be a finite number, got {text!r}")
    return amount


def resolve_exception(settings: Settings, exception_id: str, action: str, reason: str, user: str,
                      amount: Decimal | None = None, account: str | None = None) -> Recorded:
    user = _require_text(user, "--by")
    if action != "adjust" and (amount is not None or account):
        raise ValueError("--amount and --account go with --action adjust")
    decision = Decision(exception_id, action, reason, amount=amount, account=account)
    with open_warehouse(settings) as wh:
        ensure_source_tables(wh)
        try:
            checked = check_decisions(wh, [decision])
        except DecisionsRefused as refused:
            raise ValueError(refused.problems[0]) from None
        rec = record_decisions(wh, checked, user)[0]
    mirror_decision(settings.landing_dir, "exception_resolutions", rec.as_row())
    extra = (f", {rec.adjustment_amount} to {rec.adjustment_account}" if rec.adjustment_amount is not None else "")
    return Recorded(
        f"recorded {action} of {exception_id} by {user}{extra} "
        f"(effective from pay cycle {rec.effective_cycle}, id {rec.resolution_id})",
        RebuildRequest(rec.effective_cycle, "resolution", {"exception_id": exception_id, "user": user,
                                                           "action": action}, only_exceptions=True))


def resolve_from_xlsx(settings: Settings, path: Path, user: str) -> Recorded:
    """Apply every filled-in row of a close pack's exceptions sheet, or none of them."""
    user = _require_text(user, "--by")
    sheet = read_exceptions_sheet(Path(path))
    if not sheet.decisions:
        raise ValueError(f"{sheet.path.name}: no row of sheet {sheet.sheet!r} has an Action filled in; "
                         "nothing to apply")
    with open_warehouse(settings) as wh:
        ensure_source_tables(wh)
        checked = check_decisions(wh, sheet.decisions, pack_cycle=sheet.pack_cycle)
        with wh.transaction():
            recorded = record_decisions(wh, checked, user)
            append_audit(wh, user, "sheet_import", sheet.path.name, {
                "sha256": sheet.sha256, "sheet": sheet.sheet, "pack_cycle": sheet.pack_cycle.isoformat(),
                "rows_applied": len(recorded),
                "resolution_ids": [r.resolution_id for r in recorded]})
    for r in recorded:
        mirror_decision(settings.landing_dir, "exception_resolutions", r.as_row())
    counts: dict[str, int] = {}
    for r in recorded:
        counts[r.action] = counts.get(r.action, 0) + 1
    summary = ", ".join(f"{n} {a}" for a, n in sorted(counts.items()))
    return Recorded(
        f"applied {len(recorded)} decision(s) from {sheet.path.name} by {user}: {summary}",
        RebuildRequest(min(r.effective_cycle for r in recorded), "resolution",
                       {"sheet": sheet.path.name, "user": user, "rows": str(len(recorded))}, only_exceptions=True))


def manual_match(settings: Settings, payment_id: str, bank_line_id: str, reason: str, user: str) -> Recorded:
    reason, user = _require_text(reason, "--reason"), _require_text(user, "--by")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with open_warehouse(settings) as wh:
        ensure_source_tables(wh)
        if not wh.table_exists("marts", "fct_payment_reconciliation"):
            raise LookupError("no pay cycle has been built yet: run `recon run` first")
        pay = wh.fetch_dicts("select pay_cycle, account_iban, currency, direction from marts.fct_payment_reconciliation "
                             "where payment_id = ? order by pay_cycle desc limit 1", (payment_id,))
        line = wh.fetch_dicts("select pay_cycle, account_iban, currency, amount from marts.fct_bank_line_reconciliation "
                              "where bank_line_id = ? order by pay_cycle desc limit 1", (bank_line_id,))
        if not pay:
            raise LookupError(f"payment {payment_id} not found in any built pay cycle")
        if not line:
            raise LookupError(f"bank line {bank_line_id} not found in any built pay cycle")
        pay, line = pay[0], line[0]
        if pay["account_iban"] != line["account_iban"]:
            raise ValueError(f"payment {payment_id} is on account {pay['account_iban']}, bank line {bank_line_id} "
                             f"on {line['account_iban']}: a match stays within one account")
        if pay["currency"] != line["currency"]:
            raise ValueError(f"payment {payment_id} is in {pay['currency']}, bank line {bank_line_id} "
                             f"in {line['currency']}")
        bank_sign = "debit" if line["amount"] < 0 else "credit"
        expected = "debit" if pay["direction"] == "outgoing" else "credit"
        if bank_sign != expected:
            raise ValueError(f"payment {payment_id} is {pay['direction']} (a {expected} at the bank) but bank line "
                             f"{bank_line_id} is a {bank_sign}")
        linked = wh.fetchone("select count(*) from marts.fct_reconciliation_links "
                             "where payment_id = ? or bank_line_id = ?", (payment_id, bank_line_id))[0]
        if linked:
            raise ValueError("the payment or the bank line is already linked; resolve its exception instead")
        effective = max(pay["pay_cycle"], line["pay_cycle"])
        match_id = content_id("mm", payment_id, bank_line_id, reason, user, now.isoformat())
        with wh.transaction():
            wh.execute("insert into ops.manual_matches (manual_match_id, payment_id, bank_line_id, reason, "
                       "matched_by, matched_at, effective_cycle) values (?, ?, ?, ?, ?, ?, ?)",
                       (match_id, payment_id, bank_line_id, reason, user, now, effective))
            append_audit(wh, user, "manual_match", f"{payment_id}~{bank_line_id}", {
                "manual_match_id": match_id, "payment_id": payment_id, "bank_line_id": bank_line_id,
                "reason": reason, "effective_cycle": effective.isoformat()})
    mirror_decision(settings.landing_dir, "manual_matches", {
        "manual_match_id": match_id, "payment_id": payment_id, "bank_line_id": bank_line_id, "reason": reason,
        "matched_by": user, "matched_at": now, "effective_cycle": effective})
    return Recorded(
        f"linked {payment_id} and {bank_line_id} by {user} (effective from pay cycle {effective}, id {match_id})",
        RebuildRequest(effective, "manual match", {"manual_match_id": match_id, "user": user}))


def undo_manual_match(settings: Settings, manual_match_id: str, reason: str, user: str) -> Recorded:
    """Take a manual match back (append-only: the match row stays, an undo row says it never held)."""
    reason, user = _require_text(reason, "--reason"), _require_text(user, "--by")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with open_warehouse(settings) as wh:
        ensure_source_tables(wh)
        match = wh.fetch_dicts("select * from ops.manual_matches where manual_match_id = ?", (manual_match_id,))
        if not match:
            raise LookupError(f"manual match {manual_match_id} not found")
        done = wh.fetch_dicts("select undone_by, undone_at from ops.manual_match_undos where manual_match_id = ?",
                              (manual_match_id,))
        if done:
            raise ValueError(f"manual match {manual_match_id} was already undone by {done[0]['undone_by']} "
                             f"at {done[0]['undone_at']}")
        effective = match[0]["effective_cycle"]
        undo_id = content_id("mmu", manual_match_id, reason, user, now.isoformat())
        with wh.transaction():
            wh.execute("insert into ops.manual_match_undos (undo_id, manual_match_id, reason, undone_by, undone_at, "
                       "effective_cycle) values (?, ?, ?, ?, ?, ?)",
                       (undo_id, manual_match_id, reason, user, now, effective))
            append_audit(wh, user, "manual_match_undo", manual_match_id, {
                "undo_id": undo_id, "payment_id": match[0]["payment_id"], "bank_line_id": match[0]["bank_line_id"],
                "reason": reason, "effective_cycle": effective.isoformat()})
    mirror_decision(settings.landing_dir, "manual_match_undos", {
        "undo_id": undo_id, "manual_match_id": manual_match_id, "reason": reason, "undone_by": user,
        "undone_at": now, "effective_cycle": effective})
    return Recorded(
        f"undid manual match {manual_match_id} by {user} (pay cycles from {effective} rebuilt)",
        RebuildRequest(effective, "manual match undo", {"manual_match_id": manual_match_id, "user": user}))
