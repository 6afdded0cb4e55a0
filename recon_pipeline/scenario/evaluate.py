"""Compare the marts with a generated scenario's truth: link precision/recall and end states.

Used by the end-to-end tests, the property-based test and the benchmark, so "reconciles
exactly to the truth" means one thing everywhere. Bank lines are identified as the truth
identifies them, by (account, bank reference).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from recon_pipeline.warehouse.connection import Warehouse


@dataclass
class Evaluation:
    expected_links: set[tuple[str, str, str]]
    actual_links: set[tuple[str, str, str]]
    status_mismatches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def missing_links(self) -> set[tuple[str, str, str]]:
        return self.expected_links - self.actual_links

    @property
    def unexpected_links(self) -> set[tuple[str, str, str]]:
        return self.actual_links - self.expected_links

    @property
    def precision(self) -> float:
        return 1.0 if not self.actual_links else len(self.actual_links & self.expected_links) / len(self.actual_links)

    @property
    def recall(self) -> float:
        return 1.0 if not self.expected_links else len(self.actual_links & self.expected_links) / len(self.expected_links)

    def describe(self, limit: int = 15) -> str:
        parts = [f"precision={self.precision:.4f} recall={self.recall:.4f}"]
        if self.missing_links:
            parts.append(f"missing links: {sorted(self.missing_links)[:limit]}")
        if self.unexpected_links:
            parts.append(f"unexpected links: {sorted(self.unexpected_links)[:limit]}")
        if self.status_mismatches:
            parts.append(f"{len(self.status_mismatches)} status mismatches: {self.status_mismatches[:limit]}")
        return "\n".join(parts)


def evaluate(wh: Warehouse, truth: dict[str, Any], as_of: dt.date | None = None) -> Evaluation:
    as_of = as_of or dt.date.fromisoformat(truth.get("last_cycle") or max(p["pay_cycle"] for p in truth["payments"]))
    expected = {(l["payment_id"], l["account_iban"], l["bank_reference"]) for l in truth["links"]}
    actual = {(r[0], r[1], r[2]) for r in wh.fetchall("""
        select distinct k.payment_id, b.account_iban, b.bank_reference
        from marts.fct_reconciliation_links as k
        join staging.stg_bank_lines as b on b.bank_line_id = k.bank_line_id
        where k.pay_cycle <= ?""", (as_of,))}
    result = Evaluation(expected, actual)

    payments = {r["payment_id"]: r for r in wh.fetch_dicts("""
        select payment_id, pay_cycle, recon_status, exception_type, payment_status from (
            select *, row_number() over (partition by payment_id order by pay_cycle desc) as recency
            from marts.fct_payment_reconciliation where pay_cycle <= ?) as t
        where recency = 1""", (as_of,))}
    for p in truth["payments"]:
        got = payments.get(p["payment_id"])
        want = (p["expected_recon_status"], p.get("expected_exception_type"))
        have = (got["recon_status"], got["exception_type"]) if got else (None, None)
        if want != have:
            result.status_mismatches.append({"payment": p["payment_id"], "kind": p["kind"], "want": want,
                                             "have": have})
        # A payment's row shows its status in the cycle of the row; compare where that is the last cycle.
        if (got and got["pay_cycle"] == as_of and p.get("expected_payment_status")
                and got["payment_status"] != p["expected_payment_status"]):
            result.status_mismatches.append({"payment": p["payment_id"], "kind": p["kind"],
                                             "want_payment_status": p["expected_payment_status"],
                                             "have_payment_status": got["payment_status"]})

    lines = {(r["account_iban"], r["bank_reference"]): r for r in wh.fetch_dicts("""
        select account_iban, bank_reference, recon_status, exception_type from (
            select *, row_number() over (partition by bank_line_id order by pay_cycle desc) as recency
            from marts.fct_bank_line_reconciliation where pay_cycle <= ?) as t
        where recency = 1""", (as_of,))}
    for line in truth["bank_lines"]:
        got = lines.get((line["account_iban"], line["bank_reference"]))
        want = (line["expected_recon_status"], line.get("expected_exception_type"))
        have = (got["recon_status"], got["exception_type"]) if got else (None, None)
        if want != have:
            result.status_mismatches.append({"bank_line": line["bank_reference"], "kind": line["kind"],
                                             "want": want, "have": have})
    return result


INTERNAL_TYPES = ("participant_missing", "late_report", "internal_amount_mismatch", "internal_status_mismatch")


def expected_internal_exceptions(truth: dict[str, Any], cycles: list[str]) -> set[tuple[str, str, str, str, str]]:
    """(cycle, type, payment, service, status) for every cycle an internal exception must show
    in (CONTRACT §6): open from the cycle it is raised in, resolved in the cycle it resolves in."""
    rows = set()
    for p in truth.get("internal_consistency", {}).get("participants", []):
        for e in p["exceptions"]:
            for cycle in cycles:
                if cycle < e["raised_cycle"] or (e["resolved_cycle"] and cycle > e["resolved_cycle"]):
                    continue
                status = "resolved" if cycle == e["resolved_cycle"] else "open"
                rows.add((cycle, e["type"], p["payment_id"], p["service"], status))
    return rows


def internal_exceptions(wh: Warehouse) -> set[tuple[str, str, str, str, str]]:
    """The same rows as the marts show them (``fct_exceptions``)."""
    types = ", ".join(f"'{t}'" for t in INTERNAL_TYPES)
    return {(str(r[0]), r[1], r[2], r[3], r[4]) for r in wh.fetchall(
        "select pay_cycle, exception_type, payment_id, service, status from marts.fct_exceptions "
        f"where exception_type in ({types})")}
