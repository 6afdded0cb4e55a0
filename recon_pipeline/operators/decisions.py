"""Checking and recording operator decisions on exceptions, all or none.

A decision (one ``recon resolve``, or every filled row of a close pack's exceptions sheet) is
checked against the exception's current state — its row in the latest built pay cycle it
appears in — before anything is written. Any bad decision refuses the whole batch, naming
each bad one, so finance never has half a sheet applied. A good batch is appended to
``ops.exception_resolutions`` with one audit record per decision, in one transaction.
"""
from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from recon_pipeline.audit import append_audit
from recon_pipeline.dbt_setup import DBT_PROJECT_DIR
from recon_pipeline.ids import content_id
from recon_pipeline.warehouse.connection import Warehouse

ACTIONS = ("accept", "adjust", "escalate", "timing")
# timing waits for a counterpart to arrive: it means something only for an item still unmatched
TIMING_TYPES = frozenset({"missing_in_bank", "missing_in_books"})
ADJUSTMENT_ACCOUNTS_SEED = DBT_PROJECT_DIR / "seeds" / "adjustment_accounts.csv"


@dataclass(frozen=True)
class Decision:
    """What an operator asked for; ``where`` names its origin in messages (e.g. "row 7")."""
    exception_id: str
    action: str
    reason: str
    amount: Decimal | None = None
    account: str | None = None
    where: str = ""
    sheet_status: str | None = None


@dataclass(frozen=True)
class Recorded:
    resolution_id: str
    exception_id: str
    action: str
    effective_cycle: dt.date
    adjustment_amount: Decimal | None
    adjustment_account: str | None
    resolved_by: str
    resolved_at: dt.datetime
    reason: str

    def as_row(self) -> dict[str, Any]:
        """The ``ops.exception_resolutions`` row (what the mirror keeps)."""
        return {"resolution_id": self.resolution_id, "exception_id": self.exception_id, "action": self.action,
                "reason": self.reason, "resolved_by": self.resolved_by, "resolved_at": self.resolved_at,
                "effective_cycle": self.effective_cycle, "adjustment_amount": self.adjustment_amount,
                "adjustment_account": self.adjustment_account}


class DecisionsRefused(ValueError):
    """The batch was refused; ``problems`` holds one line per bad decision."""

    def __init__(self, problems: Sequence[str], what: str = "nothing was applied"):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s), {what}:\n" + "\n".join(f"  {p}" for p in self.problems))


def clean_text(value: Any) -> str:
    return " ".join(str(value or "").split())


def current_state(wh: Warehouse, exception_id: str) -> dict[str, Any] | None:
    """The exception's row in the latest built cycle it appears in, with both sides' signed amounts."""
    rows = wh.fetch_dicts(
        "select e.*, b.amount as bank_signed_amount, p.amount as payment_amount, p.direction as payment_direction "
        "from marts.fct_exceptions as e "
        "left join marts.fct_bank_line_reconciliation as b "
        "  on b.bank_line_id = e.bank_line_id and b.pay_cycle = e.pay_cycle "
        "left join marts.fct_payment_reconciliation as p "
        "  on p.payment_id = e.payment_id and p.pay_cycle = e.pay_cycle "
        "where e.exception_id = ? order by e.pay_cycle desc limit 1", (exception_id,))
    return rows[0] if rows else None


def amount_at_stake(state: dict[str, Any]) -> Decimal | None:
    """Signed amount to book so the books agree with the bank (bank minus books): the link's
    difference; a bank line nobody booked; or the reversal of a payment the bank never made."""
    if state.get("amount_difference") is not None:
        return Decimal(state["amount_difference"])
    if state.get("bank_line_id") and state.get("bank_signed_amount") is not None:
        return Decimal(state["bank_signed_amount"])
    if state.get("payment_id") and state.get("payment_amount") is not None:
        amount = Decimal(state["payment_amount"])
        return amount if state.get("payment_direction") == "outgoing" else -amount
    return None


def default_adjustment_account(exception_type: str) -> str:
    with open(ADJUSTMENT_ACCOUNTS_SEED, newline="", encoding="utf-8") as fh:
        accounts = {row["exception_type"]: row["adjustment_account"] for row in csv.DictReader(fh)}
    return accounts.get(exception_type) or accounts["*"]


@dataclass
class _Checked:
    decision: Decision
    state: dict[str, Any]
    amount: Decimal | None = None
    account: str | None = None
    problems: list[str] = field(default_factory=list)


def check_decisions(wh: Warehouse, decisions: Sequence[Decision], pack_cycle: dt.date | None = None) -> list[_Checked]:
    """Check every decision; raise ``DecisionsRefused`` naming each bad one, or return them checked."""
    if not wh.table_exists("marts", "fct_exceptions"):
        raise LookupError("no pay cycle has been built yet: run `recon run` first")
    problems: list[str] = []
    checked: list[_Checked] = []
    seen: dict[str, str] = {}
    for d in decisions:
        where = f"{d.where}: " if d.where else ""
        mine: list[str] = []
        if d.action not in ACTIONS:
            mine.append(f"unknown action {d.action!r} (use one of {', '.join(ACTIONS)})")
        if not clean_text(d.reason):
            mine.append("empty reason (every decision needs one)")
        if d.exception_id in seen:
            mine.append(f"exception {d.exception_id} is also decided at {seen[d.exception_id]}")
        seen.setdefault(d.exception_id, d.where or "another decision")
        state = current_state(wh, d.exception_id) if d.exception_id else None
        if state is None:
            mine.append(f"unknown exception id {d.exception_id!r}")
        else:
            mine += _state_problems(wh, d, state, pack_cycle)
        if mine:
            problems += [f"{where}{p}" for p in mine]
            continue
        item = _Checked(d, state)
        if d.action == "adjust":
            item.amount = d.amount if d.amount is not None else amount_at_stake(state)
            item.account = clean_text(d.account) or default_adjustment_account(state["exception_type"])
            if item.amount is None:
                problems.append(f"{where}no amount at stake is known for {d.exception_id}: give --amount")
                continue
        checked.append(item)
    if problems:
        raise DecisionsRefused(problems)
    return checked


def _state_problems(wh: Warehouse, d: Decision, state: dict[str, Any], pack_cycle: dt.date | None) -> list[str]:
    now_cycle = state["pay_cycle"]
    status, resolution = state["status"], state["resolution"]
    described = f"{status}" + (f" ({resolution} by {state['resolved_by']})" if resolution else "") + \
        f" in pay cycle {now_cycle}"
    if pack_cycle is not None:
        in_pack = wh.fetchone("select status from marts.fct_exceptions where exception_id = ? and pay_cycle = ?",
                              (d.exception_id, pack_cycle))
        if in_pack is None:
            return [f"stale copy: exception {d.exception_id} is not in pay cycle {pack_cycle} of this pack "
                    f"(it is {described})"]
        shown = clean_text(d.sheet_status).lower() or in_pack[0]
        if shown != status:
            return [f"stale copy: the pack of pay cycle {pack_cycle} shows {d.exception_id} as {shown}, "
                    f"but it is now {described}"]
    if status == "resolved":
        return [f"exception {d.exception_id} is already resolved ({resolution} by {state['resolved_by']}, "
                f"pay cycle {now_cycle})"]
    if d.action == "timing" and state["exception_type"] not in TIMING_TYPES:
        return [f"timing applies to an item still waiting for its counterpart ({', '.join(sorted(TIMING_TYPES))}), "
                f"not to {state['exception_type']} {d.exception_id}"]
    return []


def record_decisions(wh: Warehouse, checked: Sequence[_Checked], user: str) -> list[Recorded]:
    """Append the decisions and their audit records in one transaction (all or none)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    recorded = []
    with wh.transaction():
        for item in checked:
            d = item.decision
            reason = clean_text(d.reason)
            effective = item.state["pay_cycle"]
            resolution_id = content_id("res", d.exception_id, d.action, reason, user, now.isoformat())
            wh.execute("insert into ops.exception_resolutions (resolution_id, exception_id, action, reason, "
                       "resolved_by, resolved_at, effective_cycle, adjustment_amount, adjustment_account) "
                       "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (resolution_id, d.exception_id, d.action, reason, user, now, effective, item.amount,
                        item.account))
            rec = Recorded(resolution_id, d.exception_id, d.action, effective, item.amount, item.account, user, now,
                           reason)
            append_audit(wh, user, "resolve", d.exception_id, decision_details(rec))
            recorded.append(rec)
    return recorded


def decision_details(rec: Recorded) -> dict[str, Any]:
    details: dict[str, Any] = {"resolution_id": rec.resolution_id, "action": rec.action, "reason": rec.reason,
                               "effective_cycle": rec.effective_cycle.isoformat()}
    if rec.adjustment_amount is not None:
        details["adjustment_amount"] = str(rec.adjustment_amount)
        details["adjustment_account"] = rec.adjustment_account
    return details
