"""A pay cycle's headline numbers, as the Dagster UI shows them beside its close pack.

They are read from the same marts the pack is written from, so the figures on the asset in
the UI and those in the workbook agree. Amounts stay Decimal here; only the UI's metadata
turns them into floats, for display.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from recon_pipeline.warehouse.connection import Warehouse


@dataclass(frozen=True)
class RuleCounts:
    """What one matching rule settled in the cycle."""

    rule_id: str
    matches: int
    links: int
    bank_lines: int


@dataclass(frozen=True)
class CycleHeadlines:
    items: int
    open_exceptions: int
    open_exceptions_at_stake: Decimal
    exposure: Decimal
    worst_match_rate: Decimal
    worst_bank_line_match_rate: Decimal
    accounts_without_statement: int
    accounts_with_unexplained_difference: int
    bank_lines: int
    per_rule: tuple[RuleCounts, ...]

    def rule_match_rate(self, rule: RuleCounts) -> float:
        """The share of the cycle's bank lines the rule settled (0 without bank lines)."""
        return rule.bank_lines / self.bank_lines if self.bank_lines else 0.0


def cycle_headlines(wh: Warehouse, pay_cycle: str) -> CycleHeadlines:
    day = dt.date.fromisoformat(pay_cycle)
    totals = wh.fetch_dicts(
        "select coalesce(sum(payments_count + bank_lines_count), 0) as items, "
        "coalesce(sum(open_exception_count), 0) as exceptions, "
        "coalesce(sum(open_exception_amount), 0) as at_stake, "
        "coalesce(sum(exposure_amount), 0) as exposure, min(payment_match_rate) as worst_match_rate, "
        "min(bank_line_match_rate) as worst_bank_line_match_rate, "
        "sum(case when statement_status = 'no statement' then 1 else 0 end) as without_statement, "
        "sum(case when unexplained_difference <> 0 then 1 else 0 end) as unexplained_accounts "
        "from marts.rpt_close_summary where pay_cycle = ?", (day,))[0]
    per_rule = wh.fetch_dicts(
        "select rule_id, count(distinct match_id) as matches, count(*) as links, "
        "count(distinct bank_line_id) as bank_lines "
        "from marts.fct_reconciliation_links where pay_cycle = ? group by rule_id order by rule_id", (day,))
    bank_lines = wh.fetchone("select count(*) from marts.fct_bank_line_reconciliation where pay_cycle = ?",
                             (day,))[0] or 0
    return CycleHeadlines(
        items=int(totals["items"]),
        open_exceptions=int(totals["exceptions"]),
        open_exceptions_at_stake=Decimal(str(totals["at_stake"])),
        exposure=Decimal(str(totals["exposure"])),
        worst_match_rate=Decimal(str(totals["worst_match_rate"] or 0)),
        worst_bank_line_match_rate=Decimal(str(totals["worst_bank_line_match_rate"] or 0)),
        accounts_without_statement=int(totals["without_statement"] or 0),
        accounts_with_unexplained_difference=int(totals["unexplained_accounts"] or 0),
        bank_lines=int(bank_lines),
        per_rule=tuple(RuleCounts(r["rule_id"], int(r["matches"]), int(r["links"]), int(r["bank_lines"]))
                       for r in per_rule),
    )
