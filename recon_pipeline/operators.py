"""Operator decisions: ``recon resolve`` and ``recon match``.

Nothing is edited in place. A decision is appended to ``ops.*`` with who, when and why,
takes effect from the latest built pay cycle the item appears in, and the cycles from there
on are rebuilt so the marts and close packs show it. Re-running a rebuild gives the same
result because the log is an input like any other.
"""
from __future__ import annotations

import datetime as dt

from recon_pipeline.ids import content_id
from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.connection import open_warehouse
from recon_pipeline.warehouse.raw_schema import ensure_raw_schema

ACTIONS = ("accept", "adjust", "escalate", "timing")


def _require_text(value: str, what: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise ValueError(f"{what} must not be empty")
    return text


def resolve_exception(settings: Settings, exception_id: str, action: str, reason: str, user: str,
                      rebuild: bool = True) -> str:
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    reason, user = _require_text(reason, "--reason"), _require_text(user, "--by")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    with open_warehouse(settings) as wh:
        ensure_raw_schema(wh)
        if not wh.table_exists("marts", "fct_exceptions"):
            raise LookupError("no pay cycle has been built yet: run `recon run` first")
        row = wh.fetchone("select max(pay_cycle) from marts.fct_exceptions where exception_id = ?", (exception_id,))
        if not row or row[0] is None:
            raise LookupError(f"exception {exception_id} not found")
        effective = row[0]
        status = wh.fetchone("select status from marts.fct_exceptions where exception_id = ? and pay_cycle = ?",
                             (exception_id, effective))[0]
        if status == "resolved" and action != "escalate":
            raise ValueError(f"exception {exception_id} is already resolved (cycle {effective})")
        resolution_id = content_id("res", exception_id, action, reason, user, now.isoformat())
        wh.execute("insert into ops.exception_resolutions (resolution_id, exception_id, action, reason, "
                   "resolved_by, resolved_at, effective_cycle) values (?, ?, ?, ?, ?, ?, ?)",
                   (resolution_id, exception_id, action, reason, user, now, effective))
    if rebuild:
        _rebuild_from(settings, effective)
    return f"recorded {action} of {exception_id} by {user} (effective from pay cycle {effective}, id {resolution_id})"


def manual_match(settings: Settings, payment_id: str, bank_line_id: str, reason: str, user: str,
                 rebuild: bool = True) -> str:
    reason, user = _require_text(reason, "--reason"), _require_text(user, "--by")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    with open_warehouse(settings) as wh:
        ensure_raw_schema(wh)
        if not wh.table_exists("marts", "fct_payment_reconciliation"):
            raise LookupError("no pay cycle has been built yet: run `recon run` first")
        pay = wh.fetchone("select max(pay_cycle) from marts.fct_payment_reconciliation where payment_id = ?",
                          (payment_id,))
        line = wh.fetchone("select max(pay_cycle) from marts.fct_bank_line_reconciliation where bank_line_id = ?",
                           (bank_line_id,))
        if not pay or pay[0] is None:
            raise LookupError(f"payment {payment_id} not found in any built pay cycle")
        if not line or line[0] is None:
            raise LookupError(f"bank line {bank_line_id} not found in any built pay cycle")
        linked = wh.fetchone("select count(*) from marts.fct_reconciliation_links "
                             "where payment_id = ? or bank_line_id = ?", (payment_id, bank_line_id))[0]
        if linked:
            raise ValueError("the payment or the bank line is already linked; resolve its exception instead")
        effective = max(pay[0], line[0])
        match_id = content_id("mm", payment_id, bank_line_id, reason, user, now.isoformat())
        wh.execute("insert into ops.manual_matches (manual_match_id, payment_id, bank_line_id, reason, "
                   "matched_by, matched_at, effective_cycle) values (?, ?, ?, ?, ?, ?, ?)",
                   (match_id, payment_id, bank_line_id, reason, user, now, effective))
    if rebuild:
        _rebuild_from(settings, effective)
    return f"linked {payment_id} and {bank_line_id} by {user} (effective from pay cycle {effective})"


def _rebuild_from(settings: Settings, first: dt.date) -> None:
    """Rebuild the effective cycle and every later built cycle, so the decision shows everywhere."""
    from recon_pipeline.pipeline import built_cycles, rebuild_cycles

    cycles = sorted(c for c in built_cycles(settings) if c >= first)
    rebuild_cycles(settings, [c.isoformat() for c in cycles], echo=lambda _msg: None)
