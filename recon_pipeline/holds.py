"""Items a blocked pay cycle holds back, until an operator acknowledges or excludes them.

Why: a blocking data-quality check stops its cycle, but the cycle's items are open items and
would otherwise be carried into the next cycle, whose gate only looks at its own window: the
bad event (an unknown currency, a six-decimal amount, a conflicting duplicate ``event_id``)
would reach the next cycle's marts and close pack, the gate walked around one day later.

So the gate records every failing event and bank line of a blocked cycle in ``ops.held_items``
(append-only), staging leaves held items out of every cycle (``stg_held_items``), and each
later cycle's gate reports the held items still waiting (warning ``held_items_outstanding``,
so its close pack's data-quality sheet never says PASS while something is held back).
An operator ends a hold with ``recon release``: ``acknowledge`` (the item is right as it is:
it goes back in and the gate no longer fails on it) or ``exclude`` (it stays out for good).
Releases are appended to ``ops.item_releases`` and to the audit trail; nothing is edited.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from recon_pipeline.audit import append_audit
from recon_pipeline.ids import content_id
from recon_pipeline.one_line import one_line
from recon_pipeline.operators.rebuilds import RebuildRequest, Recorded
from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.connection import Warehouse, open_warehouse
from recon_pipeline.warehouse.source_tables import ensure_source_tables

if TYPE_CHECKING:  # the quality package imports this module
    from recon_pipeline.quality.results import CheckResult

ACTIONS = ("acknowledge", "exclude")
# The datasets whose failing keys are carried-forward items, and what kind of item they are.
ITEM_KIND_OF_DATASET = {
    "raw_payment_events": "event",         # key: event_id
    "raw_statement_lines": "bank_line",    # key: bank_line_id
    "staged_bank_lines": "bank_line",
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def releases(wh: Warehouse) -> dict[tuple[str, str], str]:
    """(kind, key) → the latest release action for every released item."""
    rows = wh.fetchall("select item_kind, item_key, action from ops.item_releases "
                       "order by released_at, release_id")
    return {(kind, key): action for kind, key, action in rows}


def without_released(results: Sequence[CheckResult], released: dict[tuple[str, str], str]) -> list[CheckResult]:
    """Blocking results with the keys an operator has released taken out; a check whose only
    failing keys were released passes (with a note), so a released cycle can be rebuilt."""
    out = []
    for r in results:
        kind = ITEM_KIND_OF_DATASET.get(r.dataset)
        if r.passed or not r.blocking or kind is None or not r.failing_keys:
            out.append(r)
            continue
        gone = [k for k in r.failing_keys if (kind, k) in released]
        if not gone:
            out.append(r)
            continue
        keep = [k for k in r.failing_keys if (kind, k) not in released]
        details = [d for d in r.details if not any(k in d for k in gone)]
        r.failing_keys, r.failing_count, r.details = keep, len(keep), details
        r.passed = not keep and r.error is None
        r.details.append(f"{len(gone)} failing {kind}(s) released by an operator: {', '.join(gone[:5])}")
        out.append(r)
    return out


def hold_blocked_items(wh: Warehouse, pay_cycle: str, results: Iterable[CheckResult]) -> int:
    """Hold every failing event / bank line of a blocking check that failed; returns how many
    new holds were recorded (a rebuild of the same blocked cycle records none again)."""
    cycle = dt.date.fromisoformat(pay_cycle)
    existing = {r[0] for r in wh.fetchall("select hold_id from ops.held_items where pay_cycle = ?", (cycle,))}
    rows = []
    for r in results:
        kind = ITEM_KIND_OF_DATASET.get(r.dataset)
        if kind is None or r.passed or not r.blocking:
            continue
        for key in r.failing_keys:
            hold_id = content_id("hold", kind, key, pay_cycle, r.check_name)
            if hold_id in existing:
                continue
            existing.add(hold_id)
            detail = next((d for d in r.details if key in d), r.description)
            rows.append((hold_id, kind, key, cycle, r.check_name, one_line(detail), _now()))
    if rows:
        with wh.transaction():
            wh.bulk_insert("ops.held_items", ["hold_id", "item_kind", "item_key", "pay_cycle", "check_name",
                                              "reason", "held_at"], rows)
            append_audit(wh, "recon", "hold_items", f"pay_cycle:{pay_cycle}", {
                "held": len(rows), "checks": sorted({r[4] for r in rows}),
                "items": [f"{r[1]}:{r[2]}" for r in rows[:50]]})
    return len(rows)


def outstanding_holds(wh: Warehouse, before_cycle: dt.date | None = None) -> list[dict]:
    """Held items no operator has released yet (optionally: held by cycles before a date)."""
    rows = wh.fetch_dicts(
        """select h.item_kind, h.item_key, min(h.pay_cycle) as pay_cycle, min(h.check_name) as check_name,
                  min(h.reason) as reason
           from ops.held_items as h
           where not exists (select 1 from ops.item_releases as r
                             where r.item_kind = h.item_kind and r.item_key = h.item_key)
           group by h.item_kind, h.item_key
           order by pay_cycle, h.item_kind, h.item_key""")
    return [r for r in rows if before_cycle is None or r["pay_cycle"] < before_cycle]


def release_item(settings: Settings, item_key: str, action: str, reason: str, user: str) -> Recorded:
    """Record an operator's release of a held item (append-only, audited); the rebuild it asks
    for starts at the cycle that held it, so the marts and close packs show the decision."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    reason, user = " ".join((reason or "").split()), " ".join((user or "").split())
    if not reason or not user:
        raise ValueError("--reason and --by must not be empty")
    with open_warehouse(settings) as wh:
        ensure_source_tables(wh)
        held = wh.fetchall("select item_kind, min(pay_cycle) from ops.held_items where item_key = ? "
                           "group by item_kind", (item_key,))
        if not held:
            raise LookupError(f"{item_key} is not held by any blocked pay cycle")
        kind, first_cycle = held[0]
        now = _now()
        release_id = content_id("rel", kind, item_key, action, reason, user, now.isoformat())
        with wh.transaction():
            wh.execute("insert into ops.item_releases (release_id, item_kind, item_key, action, reason, "
                       "released_by, released_at) values (?, ?, ?, ?, ?, ?, ?)",
                       (release_id, kind, item_key, action, reason, user, now))
            append_audit(wh, user, f"release_{action}", f"{kind}:{item_key}",
                         {"reason": reason, "release_id": release_id, "held_by_cycle": first_cycle.isoformat()})
    return Recorded(f"recorded {action} of {kind} {item_key} by {user} (held since pay cycle {first_cycle})",
                    RebuildRequest(first_cycle, "release", {"item_key": item_key, "user": user, "action": action},
                                   include_first=True))
